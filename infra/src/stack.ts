/**
 * The one way tests get the integration stack: `await useStack()`. The stack is started (or, for external
 * endpoints, checked) once per process and shared by every suite; `stopStack()` removes it. The root hooks
 * (mocha-hooks.ts) call both, so a suite only ever calls `useStack()`.
 */
import type { StackChoice } from './config.js';
import { chooseStack, harnessTimeouts } from './config.js';
import { removeHarnessResources } from './cleanup.js';
import type { StackEndpoints } from './endpoints.js';
import type { RunningStack } from './harness.js';
import { newRunId, startStack } from './harness.js';
import type { Logger } from './log.js';
import { createLogger } from './log.js';
import { checkEndpoints } from './probes.js';
import type { ProvisionResult } from './provision.js';
import { provision, provisionOptionsFromEnv } from './provision.js';

export interface StackHandle {
  endpoints: StackEndpoints;
  provisioned: ProvisionResult;
  /** Containers started by this process (undefined for external endpoints). */
  running?: RunningStack;
}

/**
 * Same for the whole process: labels every container, so a killed run's leftovers can be found. CI sets
 * COLLAB_STACK_RUN_ID so its own teardown removes exactly this run's containers.
 */
export const RUN_ID: string = ((globalThis as Record<symbol, unknown>)[Symbol.for('collab.infra.runId')] ??=
  process.env.COLLAB_STACK_RUN_ID || newRunId()) as string;

/**
 * The process-wide state lives on globalThis, not in module variables: mocha loads its root hooks through one
 * loader and some test files through another, which gives this module two instances — and two instances would
 * start two stacks with the same run id (their network names collide).
 */
interface HarnessState {
  handle: Promise<StackHandle> | undefined;
  containersRequested: boolean;
  stopping: Promise<void> | undefined;
}
const state: HarnessState = ((globalThis as Record<symbol, unknown>)[Symbol.for('collab.infra.harness')] ??= {
  handle: undefined,
  containersRequested: false,
  stopping: undefined,
}) as HarnessState;

export async function startOrConnect(
  choice: StackChoice,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  purpose: 'test' | 'up',
  runId: string,
): Promise<StackHandle> {
  const timeouts = harnessTimeouts(env);
  let endpoints: StackEndpoints;
  let running: RunningStack | undefined;
  if (choice.source === 'external') {
    await checkEndpoints(choice.endpoints, timeouts.probeMs);
    endpoints = choice.endpoints;
  } else {
    running = await startStack({
      source: choice.source,
      purpose,
      runId,
      startupTimeoutMs: timeouts.startupMs,
      logger,
      env,
    });
    endpoints = running.endpoints;
  }
  const provisioned = await provision(endpoints, provisionOptionsFromEnv(env));
  logger.info({ provisioned }, 'provisioned');
  return { endpoints, provisioned, ...(running === undefined ? {} : { running }) };
}

/** The stack's endpoints, starting the stack on the first call of the process. */
export async function useStack(): Promise<StackEndpoints> {
  return (await useStackHandle()).endpoints;
}

export function useStackHandle(): Promise<StackHandle> {
  state.handle ??= (() => {
    const choice = chooseStack(process.env);
    state.containersRequested = choice.source !== 'external';
    return startOrConnect(choice, process.env, createLogger('silent'), 'test', RUN_ID);
  })();
  return state.handle;
}

/**
 * A suite started containers of its own under this run's label (a fault test's Kafka cluster): the run's clean-up
 * (after all, SIGINT/SIGTERM) must then remove by label even when the stack itself is external endpoints.
 */
export function noteOwnContainers(): void {
  state.containersRequested = true;
}

/**
 * Removes this process's containers and network, by label, so it also covers a start still in flight.
 * Idempotent; a no-op when no container was requested.
 */
export function stopStack(): Promise<void> {
  if (!state.containersRequested) return Promise.resolve();
  state.stopping ??= removeHarnessResources(RUN_ID).then(() => undefined);
  return state.stopping;
}
