/**
 * The acked-op checker: what a fault run must end with, judged only from the clients' own records and the log
 * (read read_committed), never from the code under test. For every document:
 *  - the log's versions are 1..N, gapless, in order;
 *  - no (clientId, seq) is in the log twice;
 *  - every op a client saw acked is in the log exactly once, at the version it was acked with;
 *  - every client's final text and version equal the log's replay.
 * It returns the violations (empty when all hold) rather than throwing at the first, so a run reports them all.
 * Pure: the fault tests and the chaos runner feed it what they recorded.
 */
import type { OpCommitted } from '@collab/core';
import { type } from '@collab/ot-text';

/** One ack a client received: its op (clientId, seq) of `docId` is version `version`. */
export interface AckedOp {
  docId: string;
  clientId: string;
  seq: number;
  version: number;
}

/** Where a client ended up in a document. */
export interface ClientFinal {
  docId: string;
  clientId: string;
  version: number;
  text: string;
}

export interface CheckResult {
  violations: string[];
  /** Ops in the log over all documents, and acks checked against it. */
  opsInLog: number;
  acksChecked: number;
}

export function checkAckedOps(
  log: ReadonlyMap<string, readonly OpCommitted[]>,
  acked: readonly AckedOp[],
  finals: readonly ClientFinal[],
): CheckResult {
  const violations: string[] = [];
  const replays = new Map<string, string>();
  const positions = new Map<string, number[]>(); // `${docId}\u0000${clientId}\u0000${seq}` -> versions in the log
  const key = (docId: string, clientId: string, seq: number) => `${docId}\u0000${clientId}\u0000${seq}`;
  let opsInLog = 0;
  for (const [docId, records] of log) {
    opsInLog += records.length;
    let doc: ReturnType<typeof type.create> | undefined = type.create('');
    records.forEach((r, i) => {
      if (r.version !== i + 1) violations.push(`${docId}: log position ${i + 1} holds version ${r.version}`);
      const k = key(docId, r.clientId, r.seq);
      positions.set(k, [...(positions.get(k) ?? []), r.version]);
      if (doc === undefined) return;
      try {
        doc = type.apply(doc, r.op);
      } catch (err) {
        violations.push(`${docId}: the log does not replay at v${r.version}: ${(err as Error).message}`);
        doc = undefined;
      }
    });
    if (doc !== undefined) replays.set(docId, doc.toString());
  }
  for (const [k, versions] of positions) {
    if (versions.length > 1)
      violations.push(`${k.replaceAll('\u0000', ' ')}: in the log ${versions.length} times (versions ${versions})`);
  }
  for (const a of acked) {
    const versions = positions.get(key(a.docId, a.clientId, a.seq)) ?? [];
    if (versions.length === 0)
      violations.push(`${a.docId}: ${a.clientId} seq ${a.seq} acked at v${a.version} is not in the log`);
    else if (!versions.includes(a.version)) {
      violations.push(`${a.docId}: ${a.clientId} seq ${a.seq} acked at v${a.version} is in the log at v${versions}`);
    }
  }
  for (const f of finals) {
    const replay = replays.get(f.docId);
    const head = log.get(f.docId)?.length ?? 0;
    if (f.version !== head) violations.push(`${f.docId}: ${f.clientId} ended at v${f.version}, the log at v${head}`);
    if (replay !== undefined && f.text !== replay)
      violations.push(`${f.docId}: ${f.clientId}'s text differs from the log's replay`);
  }
  return { violations, opsInLog, acksChecked: acked.length };
}
