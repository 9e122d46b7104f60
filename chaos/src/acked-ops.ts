/**
 * The acked-op checker: what a fault run must end with, judged only from the clients' own records and the log
 * (read read_committed), never from the code under test (it applies ops with its own text-replay.ts). For every
 * document:
 *  - the log's versions are 1..N, gapless, in order;
 *  - no (clientId, seq) is in the log twice;
 *  - every op a client saw acked is in the log exactly once, at the version it was acked with;
 *  - every client's final text and version equal the log's replay;
 *  - with `clients` given: no op in the log that none of them sent, and none that its sender was never told
 *    committed (after a quiet end every sent op has been acked or given back; a committed op given back would
 *    be typed again by its user: a duplicate).
 * It returns the violations (empty when all hold) rather than throwing at the first, so a run reports them all;
 * each names the document and the versions involved, so the chaos report can show the log around them.
 * Pure: the fault tests and the chaos runner feed it what they recorded.
 */
import type { OpCommitted } from '@collab/core';
import { applyOp, type OpComponent } from './text-replay.js';

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

export interface Violation {
  docId: string;
  /** The log versions the violation is about (may be empty: e.g. an acked op missing from the log). */
  versions: number[];
  message: string;
}

export interface CheckResult {
  violations: string[];
  /** The same, with the document and versions, for the report's excerpts of the log. */
  details: Violation[];
  /** Ops in the log over all documents, and acks checked against it. */
  opsInLog: number;
  acksChecked: number;
  /** Each document's text as the log replays it. */
  replays: Map<string, string>;
}

export interface CheckOptions {
  /** Every client id of the run: an op from anyone else was invented (see above). */
  clients?: ReadonlySet<string>;
}

export function checkAckedOps(
  log: ReadonlyMap<string, readonly OpCommitted[]>,
  acked: readonly AckedOp[],
  finals: readonly ClientFinal[],
  options: CheckOptions = {},
): CheckResult {
  const details: Violation[] = [];
  const report = (docId: string, versions: number[], message: string) =>
    details.push({ docId, versions, message: `${docId}: ${message}` });
  const replays = new Map<string, string>();
  const positions = new Map<string, number[]>(); // `${docId}\u0000${clientId}\u0000${seq}` -> versions in the log
  const key = (docId: string, clientId: string, seq: number) => `${docId}\u0000${clientId}\u0000${seq}`;
  let opsInLog = 0;
  for (const [docId, records] of log) {
    opsInLog += records.length;
    let text: string[] | undefined = [];
    records.forEach((r, i) => {
      if (r.version !== i + 1) report(docId, [r.version], `log position ${i + 1} holds version ${r.version}`);
      const k = key(docId, r.clientId, r.seq);
      positions.set(k, [...(positions.get(k) ?? []), r.version]);
      if (options.clients !== undefined && !options.clients.has(r.clientId)) {
        report(docId, [r.version], `v${r.version} was sent by ${r.clientId}, no client of this run`);
      }
      if (text === undefined) return;
      try {
        text = applyOp(text, r.op as OpComponent[]);
      } catch (err) {
        report(docId, [r.version], `the log does not replay at v${r.version}: ${(err as Error).message}`);
        text = undefined;
      }
    });
    if (text !== undefined) replays.set(docId, text.join(''));
  }
  for (const [k, versions] of positions) {
    const [docId] = k.split('\u0000');
    if (versions.length > 1)
      report(
        docId!,
        versions,
        `${k.split('\u0000').slice(1).join(' seq ')} is in the log ${versions.length} times (versions ${versions})`,
      );
  }
  const ackedKeys = new Set<string>();
  for (const a of acked) {
    ackedKeys.add(key(a.docId, a.clientId, a.seq));
    const versions = positions.get(key(a.docId, a.clientId, a.seq)) ?? [];
    if (versions.length === 0)
      report(a.docId, [], `${a.clientId} seq ${a.seq} acked at v${a.version} is not in the log`);
    else if (!versions.includes(a.version)) {
      report(
        a.docId,
        [a.version, ...versions],
        `${a.clientId} seq ${a.seq} acked at v${a.version} is in the log at v${versions}`,
      );
    }
  }
  if (options.clients !== undefined) {
    for (const [k, versions] of positions) {
      const [docId, clientId, seq] = k.split('\u0000');
      if (options.clients.has(clientId!) && !ackedKeys.has(k)) {
        report(
          docId!,
          versions,
          `${clientId} seq ${seq} is in the log at v${versions} but its client was never told (no ack)`,
        );
      }
    }
  }
  for (const f of finals) {
    const replay = replays.get(f.docId);
    const head = log.get(f.docId)?.length ?? 0;
    if (f.version !== head)
      report(f.docId, [f.version, head], `${f.clientId} ended at v${f.version}, the log at v${head}`);
    if (replay !== undefined && f.text !== replay)
      report(f.docId, [head], `${f.clientId}'s text differs from the log's replay`);
  }
  return { violations: details.map((d) => d.message), details, opsInLog, acksChecked: acked.length, replays };
}
