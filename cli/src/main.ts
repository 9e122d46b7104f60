#!/usr/bin/env node
/**
 * `collab` — one entry point for running and operating the editor backend. Every subcommand has --help.
 * Exit codes: 0 done, 1 failed, 2 usage or configuration problem, 3 a check found a difference.
 */
import { Command } from 'commander';
import { registerDoc } from './commands/doc.js';
import { registerExport } from './commands/export.js';
import { registerMedia } from './commands/media.js';
import { registerMigrate } from './commands/migrate.js';
import { registerReplay } from './commands/replay.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { describeError, exitCodeFor } from './errors.js';

const program = new Command();
program
  .name('collab')
  .description('Real-time collaborative text editing backend: run it, operate it, inspect documents.')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true })
  // Usage errors (unknown option, missing argument) exit 2 like configuration problems.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerServe(program);
registerMedia(program);
registerMigrate(program);
registerToken(program);
registerDoc(program);
registerExport(program);
registerReplay(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(describeError(err));
  process.exit(exitCodeFor(err));
});
