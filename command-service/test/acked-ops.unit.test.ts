import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import type { AckedOp, ClientFinal } from './support/acked-ops.js';
import { checkAckedOps } from './support/acked-ops.js';

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
    assert.deepEqual(checkAckedOps(new Map([['d', records]]), acks, finals), {
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
});
