/**
 * The distributed command-service (`collab serve --mode distributed`): the same runner as its own main.ts.
 */
import { ConfigError, describeCommandServiceConfig, runCommandService } from '@collab/command-service';
import type { RunningCommandService } from '@collab/command-service';

export type { RunningCommandService };

export interface RunModule {
  ConfigError: typeof ConfigError;
  describeCommandServiceConfig(env: NodeJS.ProcessEnv): unknown;
  runCommandService(env: NodeJS.ProcessEnv): Promise<RunningCommandService>;
}

export async function loadCommandServiceRunner(): Promise<RunModule> {
  return { ConfigError, describeCommandServiceConfig, runCommandService };
}
