/**
 * `npm run bench:export -- [--ops 200000] [--documents 2000] [--partitions 6] [--formats ndjson,avro,parquet]`
 *
 * Appends N ops across many documents to a fresh ops topic (through the Kafka OpLog, as the command-service does),
 * then exports the whole stream (`collab export --all`'s code, in this process) once per format into a temporary
 * folder, with checkpoints as the CLI keeps them, and prints records/s for each and its ratio to the topic read by
 * a plain kafkajs consumer (the floor any reader pays). Each output is then checked, untimed: it must hold every
 * op. Endpoints come from the integration harness (KAFKA_BROKERS, ... or containers).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { bestEffort, type OpCommitted, type OpLog } from '@collab/core';
import { stopStack, useStack } from '@collab/infra';
import avro from 'avsc';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { Kafka, logLevel } from 'kafkajs';
import { avroDecoderCodecs } from '../src/export/avro-codecs.js';
import { EXPORT_FORMATS, defaultCodec, type ExportFormat } from '../src/export/request.js';
import { runExport } from '../src/export/run.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '200000' },
    documents: { type: 'string', default: '2000' },
    partitions: { type: 'string', default: '6' },
    formats: { type: 'string', default: EXPORT_FORMATS.join(',') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run bench:export -- [--ops N] [--documents D] [--partitions P] [--formats ndjson,avro,parquet]',
  );
  process.exit(0);
}
const OPS = Number(values.ops);
const DOCUMENTS = Number(values.documents);
const PARTITIONS = Number(values.partitions);
const FORMATS = values.formats.split(',') as ExportFormat[];
for (const f of FORMATS) if (!EXPORT_FORMATS.includes(f)) throw new Error(`unknown format ${f}`);

/** Ops of typing-sized edits, round-robin over the documents, one committed every millisecond. */
function generate(): OpCommitted[] {
  const versions = new Array<number>(DOCUMENTS).fill(0);
  const t0 = Date.now() - OPS;
  return Array.from({ length: OPS }, (_, i) => {
    const d = i % DOCUMENTS;
    const version = ++versions[d]!;
    return {
      docId: `bench-doc-${d}`,
      version,
      op: version === 1 ? ['hello'] : [version - 1, 'x'],
      baseVersion: version - 1,
      clientId: `client-${d}`,
      seq: version,
      userId: `user-${d % 50}`,
      timestamp: t0 + i,
    };
  });
}

async function append(log: OpLog, ops: readonly OpCommitted[]): Promise<void> {
  await Promise.all(
    Array.from({ length: log.partitionCount }, async (_, p) => {
      const mine = ops.filter((o) => log.partitionFor(o.docId) === p);
      const writer = await log.openWriter(p);
      try {
        for (let i = 0; i < mine.length; i += 2_000) {
          await writer.append(mine.slice(i, i + 2_000).map((value) => ({ value })));
        }
      } finally {
        await writer.close();
      }
    }),
  );
}

/** How many ops the output holds (not timed). */
async function countOutput(format: ExportFormat, out: string): Promise<number> {
  if (format === 'ndjson') return readFileSync(out, 'utf8').split('\n').length - 1;
  if (format === 'parquet') {
    let rows = 0;
    for (const name of readdirSync(out)) {
      rows += Number((await parquetMetadataAsync(await asyncBufferFromFile(join(out, name)))).num_rows);
    }
    return rows;
  }
  let records = 0;
  await new Promise<void>((resolve, reject) =>
    avro
      .createFileDecoder(out, { codecs: avroDecoderCodecs })
      .on('data', () => records++)
      .on('end', resolve)
      .on('error', reject),
  );
  return records;
}

/**
 * The floor an export is measured against: the same topic read whole by a plain kafkajs consumer (read_committed,
 * a group of its own, every record counted and nothing decoded or written) — what any Kafka reader pays before
 * doing anything with the records. Timed from its first batch, so the group's join is left out (the exports' own
 * start is not): a generous floor. Returns records/s.
 */
async function rawRead(kafka: Kafka, topic: string): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-export-raw-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    let started = 0;
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          if (started === 0) started = performance.now();
          seen += batch.messages.length;
          if (seen >= OPS) resolve((performance.now() - started) / 1000);
        },
      });
    });
    const seconds = await done;
    return OPS / seconds;
  } finally {
    await consumer.disconnect();
  }
}

async function main() {
  const stack = await useStack();
  const topic = `bench.export.${Date.now()}`;
  const kafka = new Kafka({ clientId: 'bench-export', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  let log: OpLog | undefined;
  try {
    await ensureOpsTopic(admin, { topic, partitions: PARTITIONS, replicationFactor: 1 });
    log = await createKafkaOpLog({
      brokers: stack.kafka.brokers,
      topic,
      partitionCount: PARTITIONS,
      clientId: 'bench',
    });
    const ops = generate();
    let t = performance.now();
    await append(log, ops);
    const appendS = (performance.now() - t) / 1000;
    console.log(
      `appended ${OPS} ops of ${DOCUMENTS} documents to ${topic} (${PARTITIONS} partitions) in ${appendS.toFixed(1)} s`,
    );
    const floor = await rawRead(kafka, topic);
    console.log(`peer — the topic read by a plain kafkajs consumer, nothing decoded: ${Math.round(floor)} records/s`);
    for (const format of FORMATS) {
      const out = join(dir, `all.${format}`);
      const codec = format === 'avro' ? 'snappy' : defaultCodec(format);
      t = performance.now();
      await runExport(
        { log, close: async () => {} },
        { docs: 'all', fromOffsets: new Map(), toOffsets: new Map(), format, codec, out },
        { checkpoint: join(dir, `${format}.checkpoint.json`), checkpointEvery: 10_000, resume: false, progress: false },
      );
      const s = (performance.now() - t) / 1000;
      const held = await countOutput(format, out);
      if (held !== OPS) throw new Error(`${format}: the output holds ${held} ops, not ${OPS}`);
      const bytes =
        format === 'parquet'
          ? readdirSync(out).reduce((n, f) => n + statSync(join(out, f)).size, 0)
          : statSync(out).size;
      console.log(
        `${format} (${codec}): ${OPS} records in ${s.toFixed(1)} s = ${Math.round(OPS / s)} records/s (${(OPS / s / floor).toFixed(2)}× the plain read), ${(bytes / 1e6).toFixed(2)} MB (verified: ${held} records)`,
      );
    }
  } finally {
    await bestEffort(log?.close());
    await bestEffort(admin.deleteTopics({ topics: [topic] }));
    await bestEffort(admin.disconnect());
    rmSync(dir, { recursive: true, force: true });
    await stopStack();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
