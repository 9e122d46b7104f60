/** Options every operating command shares, and the one way an action reports its outcome. */
import type { Command } from 'commander';
import { redactCommandConfig, type CommandConfig } from '../config/load.js';
import { MODE_HELP } from '../config/mode.js';
import { describeError, EXIT, exitCodeFor } from '../errors.js';

export interface CommonOptions {
  mode?: string;
  dataDir?: string;
  printConfig?: boolean;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option('--mode <mode>', MODE_HELP)
    .option('--data-dir <dir>', 'embedded: the data folder of `collab serve` (env COLLAB_DATA_DIR, default ./data)')
    .option('--print-config', 'print the effective configuration (secrets redacted) and exit');
}

/** Run an action; its resolved number is the exit code, a thrown error is described and mapped to one. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await run(...args);
    } catch (err) {
      console.error(describeError(err));
      process.exitCode = exitCodeFor(err);
    }
  };
}

/** --print-config: the effective configuration with secrets redacted. */
export function printConfig(config: CommandConfig): number {
  console.log(JSON.stringify(redactCommandConfig(config), null, 2));
  return EXIT.ok;
}
