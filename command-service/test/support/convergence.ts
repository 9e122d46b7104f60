/**
 * What a multi-instance run must end with, checked against the op log (the truth): per document, versions
 * 1..N with no gap, no (clientId, seq) twice, every op a client saw acked in the log at that version, and every
 * client's text equal to the log replayed.
 */
import { isOpCommitted, seededRandom } from '@collab/core';
import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import { type } from '@collab/ot-text';
import type { DocClient } from './doc-client.js';
import type { TestTopic } from './service.js';
import { openLog } from './service.js';
import { until } from './processes.js';

export async function readDocs(t: TestTopic, docIds: readonly string[]): Promise<Map<string, OpCommitted[]>> {
  const log = await openLog(t);
  try {
    const out = new Map<string, OpCommitted[]>(docIds.map((d) => [d, []]));
    const partitions = new Set(docIds.map((d) => log.partitionFor(d)));
    for (const p of partitions) {
      for await (const batch of log.read(p, 0n))
        for (const r of batch) if (isOpCommitted(r.value)) out.get(r.value.docId)?.push(r.value);
    }
    return out;
  } finally {
    await log.close();
  }
}

/** mulberry32, seeded: see @collab/core. */
export const seeded = seededRandom;

/** Waits until every client has nothing pending and all agree on each document's version. */
export async function quiesce(clients: readonly DocClient[], docIds: readonly string[], timeoutMs = 60_000) {
  await until(
    'every client idle at the same versions',
    () => {
      if (!clients.every((c) => c.idle)) return undefined;
      for (const docId of docIds) {
        const versions = new Set(clients.map((c) => c.docs.get(docId)!.version));
        if (versions.size !== 1) return undefined;
      }
      return true;
    },
    timeoutMs,
  );
}

export interface RunNumbers {
  opsInLog: number;
  acked: number;
}

export async function assertConverged(
  t: TestTopic,
  clients: readonly DocClient[],
  docIds: readonly string[],
): Promise<RunNumbers> {
  for (const c of clients) assert.deepEqual(c.anomalies, [], `${c.clientId} saw no protocol anomaly`);
  const logs = await readDocs(t, docIds);
  let opsInLog = 0;
  let acked = 0;
  for (const docId of docIds) {
    const records = logs.get(docId)!;
    opsInLog += records.length;
    assert.deepEqual(
      records.map((r) => r.version),
      records.map((_, i) => i + 1),
      `${docId}: versions 1..N without gaps`,
    );
    const keys = records.map((r) => `${r.clientId}#${r.seq}`);
    assert.equal(new Set(keys).size, keys.length, `${docId}: no (clientId, seq) committed twice`);
    const byKey = new Map(records.map((r) => [`${r.clientId}#${r.seq}`, r.version]));
    let text = type.create('');
    for (const r of records) text = type.apply(text, r.op);
    for (const c of clients) {
      const doc = c.docs.get(docId)!;
      for (const [seq, version] of doc.acked) {
        acked++;
        assert.equal(
          byKey.get(`${c.clientId}#${seq}`),
          version,
          `${docId}: ${c.clientId} seq ${seq} acked at v${version}`,
        );
      }
      assert.equal(doc.version, records.length, `${docId}: ${c.clientId} is at the log's head`);
      assert.equal(doc.text, text.toString(), `${docId}: ${c.clientId}'s text equals the log replayed`);
    }
  }
  return { opsInLog, acked };
}
