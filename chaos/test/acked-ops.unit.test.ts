import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import type { AckedOp, ClientFinal } from '../src/acked-ops.js';
import { checkAckedOps } from '../src/acked-ops.js';

const op = (version: number, clientId: string, seq: number, text: string, at: number): OpCommitted =>
  ({ docId: 'd', version, clientId, seq, op: at === 0 ? [text] : [at, text], baseVersion: version - 1 }) as never;

describe('the acked-op checker', () => {
  const records = [op(1, 'a', 1, 'x', 0), op(2, 'b', 1, 'y', 1), op(3, 'a', 2, 'z', 2)];
  const acks: AckedOp[] = [
    { docId: 'd', clientId: 'a', seq: 1, version: 1 },
    { docId: 'd', clientId: 'b', seq: 1, version: 2 },
    { docId: 'd', clientId: 'a', seq: 2, version: 3 },
  ];
  const finals: ClientFinal[] = [
    { docId: 'd', clientId: 'a', version: 3, text: 'xyz' },
    { docId: 'd', clientId: 'b', version: 3, text: 'xyz' },
  ];

  it('finds nothing wrong in a consistent run', () => {
    const { replays: _replays, details: _details, ...summary } = checkAckedOps(new Map([['d', records]]), acks, finals);
    assert.deepEqual(summary, {
      violations: [],
      opsInLog: 3,
      acksChecked: 3,
    });
  });

  it('reports an acked op missing from the log, a gap, a duplicate, a wrong version and a diverged client', () => {
    const lost = checkAckedOps(new Map([['d', [records[0]!, records[1]!]]]), acks, finals).violations;
    assert.ok(
      lost.some((v) => /a seq 2 acked at v3 is not in the log/.test(v)),
      lost.join('\n'),
    );
    const gap = checkAckedOps(new Map([['d', [records[0]!, records[2]!]]]), [], []).violations;
    assert.ok(
      gap.some((v) => /position 2 holds version 3/.test(v)),
      gap.join('\n'),
    );
    const dup = [...records, { ...records[0]!, version: 4 }];
    assert.ok(checkAckedOps(new Map([['d', dup]]), [], []).violations.some((v) => /2 times/.test(v)));
    const moved = [{ ...acks[2]!, version: 2 }];
    assert.ok(checkAckedOps(new Map([['d', records]]), moved, []).violations.some((v) => /in the log at v3/.test(v)));
    const diverged = [{ ...finals[0]!, text: 'xy' }];
    const text = checkAckedOps(new Map([['d', records]]), [], diverged).violations;
    assert.deepEqual(text, ["d: a's text differs from the log's replay"]);
  });

  it("with the run's clients known: reports an op nobody of the run sent, and a committed op never acked", () => {
    const clients = new Set(['a', 'b']);
    const invented = [...records, op(4, 'mallory', 1, '!', 3)];
    const foreign = checkAckedOps(new Map([['d', invented]]), acks, [], { clients }).violations;
    // Only the invention: "never told" is about the run's own clients.
    assert.deepEqual(foreign, ['d: v4 was sent by mallory, no client of this run']);
    const unacked = checkAckedOps(new Map([['d', records]]), acks.slice(0, 2), [], { clients });
    assert.deepEqual(unacked.violations, ['d: a seq 2 is in the log at v3 but its client was never told (no ack)']);
    assert.deepEqual(unacked.details[0]!.versions, [3]);
  });

  it('replays the log with its own applier: a delete of text that is not there is a violation', () => {
    const bad = [op(1, 'a', 1, 'x', 0), { ...op(2, 'b', 1, 'y', 1), op: [{ d: 'q' }] } as OpCommitted];
    const result = checkAckedOps(new Map([['d', bad]]), [], []);
    assert.ok(
      result.violations.some((v) => /does not replay at v2/.test(v)),
      result.violations.join('\n'),
    );
    assert.equal(checkAckedOps(new Map([['d', records]]), [], []).replays.get('d'), 'xyz');
  });
});
