/**
 * `npm run bench:sdk-presence`: what a received presence update costs the SDK, per update, with nobody listening
 * for 'presence' (the list of the others is not built) and with a listener (the list — a UTF-16 conversion per
 * user — is built on every update), for 5, 40 and 100 users in the document. Before 2026-11-27 the list was
 * built on every update either way. Prints figures, asserts nothing.
 */
import { Doc } from '@collab/ot-text';
import { DocumentPresence } from '../src/presence.js';

const UPDATES = 100_000;
const text = Doc.fromString('héllo 😀 '.repeat(2_000));

for (const users of [5, 40, 100]) {
  const figures: string[] = [];
  for (const listening of [false, true]) {
    const presence: DocumentPresence = new DocumentPresence({
      docId: 'd',
      confirmed: text,
      text,
      version: 10,
      isLive: true,
      pendingOps: () => [],
      userId: () => 'me',
      send: () => {},
      schedule: () => () => {},
      now: () => 0,
      // What DocumentSync does: the list only for listeners.
      changed: () => {
        if (listening) presence.users();
      },
    });
    const started = performance.now();
    for (let i = 0; i < UPDATES; i++) {
      const s = i % users;
      const place = (i * 7) % 10_000;
      presence.receive({
        t: 'presence',
        docId: 'd',
        update: {
          sessionId: `s${s}`,
          userId: `u${s}`,
          name: `user ${s}`,
          color: '#336699',
          cursor: { anchor: place, head: place },
          version: 10,
        },
      });
    }
    const us = ((performance.now() - started) * 1000) / UPDATES;
    figures.push(`${listening ? 'with a listener' : 'nobody listening'} ${us.toFixed(2)} µs`);
  }
  console.log(`${users} users in the document, per received update: ${figures.join(', ')}`);
}
