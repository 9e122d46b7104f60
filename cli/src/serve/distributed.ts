/**
 * The distributed command-service, loaded from command-service/src/run.ts. That module is not (yet) exported by
 * @collab/command-service's index, and the package's "exports" map allows only ".", so it is found beside the
 * package entry at run time and typed here by hand. Once the index exports runCommandService, import it.
 */
export interface RunningCommandService {
  readonly port: number;
  close(): Promise<void>;
}

interface RunModule {
  ConfigError: new (...args: never[]) => Error & { problems: string[] };
  describeCommandServiceConfig(env: NodeJS.ProcessEnv): unknown;
  runCommandService(env: NodeJS.ProcessEnv): Promise<RunningCommandService>;
}

export async function loadCommandServiceRunner(): Promise<RunModule> {
  const entry = import.meta.resolve('@collab/command-service');
  return (await import(new URL('./run.ts', entry).href)) as RunModule;
}
