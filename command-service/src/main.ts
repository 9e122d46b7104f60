/**
 * The command-service process (distributed mode). Graceful shutdown on SIGINT/SIGTERM hands our partitions over:
 * the commands consumer leaves its group, so the others take over at once instead of after the session timeout.
 */
import { ConfigError, runCommandService } from './run.js';

async function main(): Promise<void> {
  let service;
  try {
    service = await runCommandService(process.env);
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && err.message.startsWith('invalid presence'))) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Machine-readable readiness line for supervisors and tests.
  console.log(JSON.stringify({ ready: true, port: service.port }));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
