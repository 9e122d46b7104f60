/**
 * Mocha root hooks for the integration suite (.mocharc.int.json `require`s this file):
 *  - before everything: apply the skipping rule (skip-rule.ts), then start or check the stack once, so a broken
 *    stack fails once, loudly, in "before all", instead of in every suite;
 *  - after everything, and on SIGINT/SIGTERM: remove this run's containers and network.
 */
import type { Context } from 'mocha';
import { chooseStack, harnessTimeouts } from './config.js';
import { dockerStatus } from './docker.js';
import { banner, decideSuite } from './skip-rule.js';
import { RUN_ID, stopStack, useStackHandle } from './stack.js';

let signalsInstalled = false;

/**
 * Ctrl-C or a CI timeout must not leave containers behind: clean up (bounded), then exit as the signal would.
 * mocha's wrapper process forwards Ctrl-C as SIGINT *and* SIGTERM, so both signals share one cleanup and the
 * first signal's exit code.
 */
function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  let exiting: Promise<unknown> | undefined;
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    if (exiting !== undefined) return;
    process.stderr.write(`\n[infra] ${signal}: removing integration containers of run ${RUN_ID}...\n`);
    const forceExit = setTimeout(() => process.exit(code), 20_000);
    exiting = stopStack()
      .catch((err: unknown) => process.stderr.write(`[infra] cleanup failed: ${String(err)}\n`))
      .finally(() => {
        clearTimeout(forceExit);
        process.exit(code);
      });
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));
}

export const mochaHooks = {
  async beforeAll(this: Context): Promise<void> {
    const env = process.env;
    const choice = chooseStack(env);
    const timeouts = harnessTimeouts(env);
    // Containers start in parallel, so one startup budget (+ provisioning) bounds the hook.
    this.timeout(Math.max(timeouts.startupMs, timeouts.probeMs) + 60_000);
    const docker = choice.source === 'external' ? undefined : await dockerStatus(env);
    const decision = decideSuite(choice, docker, env.CI === 'true');
    if (decision.action === 'fail') throw new Error(banner(decision.message));
    if (decision.action === 'skip') {
      process.stderr.write(banner(decision.message));
      this.skip();
    }
    installSignalHandlers();
    await useStackHandle();
  },

  async afterAll(this: Context): Promise<void> {
    this.timeout(60_000);
    await stopStack();
  },
};
