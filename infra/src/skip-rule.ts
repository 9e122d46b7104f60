/**
 * Whether the integration suite runs, is skipped, or fails — decided once per run, before any container:
 *
 *  - endpoints given (external)        → run against them
 *  - a Docker engine answers           → run (start the containers)
 *  - no Docker, CI=true                → FAIL: CI must never pass with its integration tests silently skipped
 *  - no Docker, not CI                 → SKIP loudly, saying how to enable it
 */
import type { StackChoice } from './config.js';
import { ENDPOINT_VARIABLES } from './endpoints.js';
import type { DockerStatus } from './docker.js';

export type SuiteDecision =
  { action: 'run' } | { action: 'skip'; message: string } | { action: 'fail'; message: string };

export function decideSuite(choice: StackChoice, docker: DockerStatus | undefined, ci: boolean): SuiteDecision {
  if (choice.source === 'external' || docker?.reachable === true) return { action: 'run' };
  const reason = docker === undefined ? 'not checked' : docker.reason;
  const lines = [
    `No Docker engine is reachable (${reason}) and no endpoints are given,`,
    `so the integration tests (real Kafka, Cassandra, S3 and Redis) cannot run. To run them, either:`,
    `  - start Docker (as root: bash infra/scripts/ensure-docker.sh), then build the images once:`,
    `      npm run infra:images`,
    `  - or point the tests at running servers: ${ENDPOINT_VARIABLES.join(', ')}`,
    `      (e.g. npm run infra:up -- --detach prints the export lines)`,
    `See docs/testing.md.`,
  ];
  if (ci)
    return { action: 'fail', message: ['CI=true: integration tests cannot be skipped in CI.', ...lines].join('\n') };
  return { action: 'skip', message: ['INTEGRATION TESTS SKIPPED', ...lines].join('\n') };
}

/** A banner that stands out in a long test log. */
export function banner(message: string): string {
  const bar = '!'.repeat(100);
  return `\n${bar}\n${message.replace(/^/gm, '!! ')}\n${bar}\n`;
}
