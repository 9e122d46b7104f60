/** startCommandService's two ownership modes: one process owning every partition, or a command bus. Not neither. */
import assert from 'node:assert/strict';
import type { OpLog } from '@collab/core';
import pino from 'pino';
import { startCommandService } from '../src/server.js';

describe('command-service ownership mode', () => {
  it('refuses to start with neither a command bus nor ownAllPartitions (no instance would sequence anything)', async () => {
    await assert.rejects(
      startCommandService({
        log: {} as OpLog, // never reached: the options are checked first
        logger: pino({ level: 'silent' }),
        host: '127.0.0.1',
        port: 0,
        auth: { hs256Secret: 'x'.repeat(32) },
        consumerGroup: 'unused',
        window: 10,
        hashEvery: 10,
        limits: {} as never,
        idleTimeoutSeconds: 30,
      }),
      /needs a command bus \(several instances\) or ownAllPartitions/,
    );
  });
});
