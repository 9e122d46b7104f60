/**
 * `npx tsx --conditions=@collab/source command-service/bench/bench-takeover-load.ts [--records 50000] [--doc-ops 2000] [--unprojected 500] [--runs 5]`
 *
 * What a new owner pays to load one document, on the real stack: the read-side load (snapshot + read-model ops +
 * the Kafka tail after the projection's committed offset) against a scan of the whole partition from offset 0
 * (the fallback, and the only path before). One partition of `--records` records: the document's `--doc-ops` ops
 * spread among other documents' records. The read models hold the document's ops up to `doc-ops − unprojected`,
 * a snapshot sits 300 versions below that, and the projection group's committed offset is set (admin.setOffsets)
 * right after that op — as if the projection had stopped there. Prints the median of `--runs` runs of each, with
 * the load average. Needs the integration stack (started by the harness, or given by KAFKA_BROKERS, ...).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { OpCommitted } from '@collab/core';
import { generateHistory, rng } from '@collab/read-side/testing';
import pino from 'pino';
import { loadFromLog } from '../src/documents/document-loader.js';
import type { SourceEvent } from '../src/documents/document-source.js';
import { projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';
import { freshReadSide } from '../test/support/read-side.js';
import { freshTopic, openLog } from '../test/support/service.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    'doc-ops': { type: 'string', default: '2000' },
    unprojected: { type: 'string', default: '500' },
    runs: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx --conditions=@collab/source command-service/bench/bench-takeover-load.ts [--records N] [--doc-ops N] [--unprojected N] [--runs N]',
  );
  process.exit(0);
}
const RECORDS = Number(values.records);
const DOC_OPS = Number(values['doc-ops']);
const UNPROJECTED = Number(values.unprojected);
const RUNS = Number(values.runs);
const WINDOW = 200;
const PROJECTED = DOC_OPS - UNPROJECTED;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load1 = () => loadavg()[0]!.toFixed(2);

async function main(): Promise<void> {
  const t = await freshTopic(1);
  const rs = await freshReadSide();
  const log = await openLog(t);
  try {
    const random = rng(42);
    const doc = generateHistory(`bench-${randomUUID().slice(0, 8)}`, DOC_OPS, random);
    const others = Array.from({ length: 100 }, (_, i) =>
      generateHistory(`other-${i}`, Math.ceil((RECORDS - DOC_OPS) / 100), random),
    );
    // The partition: other documents' records with the document's ops spread evenly among them.
    const records: OpCommitted[] = [];
    const otherOps = others.flatMap((o, i) => o.ops.map((op, v) => ({ op, key: v * 100 + i })));
    otherOps.sort((a, b) => a.key - b.key);
    const every = Math.max(1, Math.floor(otherOps.length / DOC_OPS));
    let next = 0;
    otherOps.slice(0, RECORDS - DOC_OPS).forEach(({ op }, i) => {
      if (i % every === 0 && next < DOC_OPS) records.push(doc.ops[next++]!);
      records.push(op);
    });
    while (next < DOC_OPS) records.push(doc.ops[next++]!);

    const writer = await log.openWriter(0);
    let committed = 0n;
    const started = performance.now();
    for (let i = 0; i < records.length; i += 500) {
      const batch = records.slice(i, i + 500);
      const offsets = await writer.append(batch.map((value) => ({ value })));
      batch.forEach((r, j) => {
        if (r.docId === doc.docId && r.version === PROJECTED) committed = offsets[j]! + 1n;
      });
    }
    await writer.close();
    console.log(`appended ${records.length} records in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // As if the projection had written the document up to PROJECTED and committed its offset there.
    const group = `bench-projection-${randomUUID().slice(0, 8)}`;
    for (let v = 0; v < PROJECTED; v += 1000)
      await rs.readModels.writeOps(doc.ops.slice(v, Math.min(v + 1000, PROJECTED)));
    await rs.admin.setOffsets({
      groupId: group,
      topic: t.topic,
      partitions: [{ partition: 0, offset: String(committed) }],
    });
    const snapshotVersion = Math.max(0, PROJECTED - 300);
    if (snapshotVersion > 0) {
      await rs.snapshots.put({
        docId: doc.docId,
        version: snapshotVersion,
        text: doc.texts[snapshotVersion]!,
        createdAt: Date.now(),
      });
    }

    const readSide: number[] = [];
    const scan: number[] = [];
    let event: SourceEvent | undefined;
    for (let run = 0; run < RUNS; run++) {
      const events: SourceEvent[] = [];
      const source = createReadSideSource({
        log,
        readModels: rs.readModels,
        snapshots: rs.snapshots,
        committedOffset: projectionOffsets(rs.admin, group, t.topic),
        window: WINDOW,
        logger: pino({ level: 'silent' }),
        onEvent: (e) => events.push(e),
      });
      const order = run % 2 === 0 ? ['read-side', 'scan'] : ['scan', 'read-side'];
      for (const which of order) {
        const t0 = performance.now();
        const state = which === 'read-side' ? await source.load(doc.docId) : await loadFromLog(log, doc.docId, WINDOW);
        const ms = performance.now() - t0;
        if (state.version !== DOC_OPS || state.doc.toString() !== doc.texts[DOC_OPS])
          throw new Error(`${which}: wrong state`);
        (which === 'read-side' ? readSide : scan).push(ms);
      }
      event = events[0];
      console.log(
        `run ${run + 1}: read-side ${readSide.at(-1)!.toFixed(0)} ms, scan ${scan.at(-1)!.toFixed(0)} ms (load average ${load1()})`,
      );
    }
    if (event?.kind !== 'load' || event.source !== 'read-side')
      throw new Error(`not loaded from the read side: ${JSON.stringify(event?.kind)}`);
    console.log(
      `\n${records.length} records in the partition; document of ${DOC_OPS} ops, ${UNPROJECTED} of them past the committed offset\n` +
        `read-side load: median ${median(readSide).toFixed(0)} ms (snapshot ${event.snapshotVersion}, ${event.readModelOps} read-model ops, ` +
        `${event.logOps} ops from ${event.logRecordsScanned} records scanned after offset ${event.logFrom})\n` +
        `whole-partition scan: median ${median(scan).toFixed(0)} ms (${records.length} records)\n` +
        `load average at the end: ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
  } finally {
    await log.close();
    await rs.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
