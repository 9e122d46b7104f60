/**
 * The command-service process (distributed mode). Graceful shutdown on SIGINT/SIGTERM hands our partitions over:
 * the commands consumer leaves its group, so the others take over at once instead of after the session timeout.
 * Exit codes, the ready line `{"ready":true,"port":N}` and the shutdown deadline: the process kit
 * (@collab/observability, runServiceProcess).
 */
import { runServiceProcess } from '@collab/observability';
import { commandServiceProcess } from './run.js';

void runServiceProcess(commandServiceProcess(process.env));
