/**
 * The golden bytes read by the Java Avro library (test/jvm/ReadFrames.java, run with the JVM and the Avro 1.10 jars
 * of the schema registry image): what Kafka Connect's AvroConverter, Trino's Kafka connector and Spark's Avro reader
 * do underneath — the frame's writer schema resolved to the reader's schema. Every fixture of v1 and v2, read as v1,
 * as v2 and through the components projection (schemas/projections/op-committed-components.avsc, the reader schema
 * docs/data.md gives data tools), decodes to what avsc decodes, and to the committed op: v1 readers see `op`, the
 * projection sees `components` (empty for records written with v1).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import avro from 'avsc';
import type { OpCommitted } from '@collab/core';
import { fromOpComponents, fromUnionComponents, type AvroOpComponent, type AvroUnionComponent } from '../src/index.js';

const run = promisify(execFile);
const schemasDir = fileURLToPath(new URL('../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const READERS = {
  v1: 'avro/op-committed/v1.avsc',
  v2: 'avro/op-committed/v2.avsc',
  components: 'projections/op-committed-components.avsc',
} as const;
const WRITERS = { 1: 'avro/op-committed/v1.avsc', 2: 'avro/op-committed/v2.avsc' } as const;

const fixturesOf = (version: 1 | 2) =>
  readdirSync(new URL(`./fixtures/op-committed/v${version}/`, import.meta.url))
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => `test/fixtures/op-committed/v${version}/${f}`);

const typeOf = (file: string) =>
  avro.Type.forSchema(JSON.parse(readFileSync(`${schemasDir}${file}`, 'utf8')) as avro.Schema, { wrapUnions: false });

/** What avsc reads: the same resolution, in JSON terms. */
function avscRead(reader: string, writer: string, hexFile: string): unknown {
  const [r, w] = [typeOf(reader), typeOf(writer)];
  const frame = Buffer.from(readFileSync(`${schemasDir}${hexFile}`, 'utf8').trim(), 'hex');
  return JSON.parse(JSON.stringify(r.fromBuffer(frame.subarray(5), r.createResolver(w))));
}

describe('the golden bytes read by the Java Avro library (Connect, Trino and Spark read through it)', function () {
  this.timeout(180_000);
  const lines = new Map<string, unknown[]>();

  before(async () => {
    const printed = (await run('bash', ['infra/images/build.sh', '--print'], { cwd: repoRoot })).stdout;
    const image = /^SCHEMA_REGISTRY_IMAGE=(.+)$/m.exec(printed)?.[1] ?? '';
    assert.ok(image !== '', `infra/images/build.sh --print named no SCHEMA_REGISTRY_IMAGE:\n${printed}`);
    // One container, one java run per (reader, writer) pair, each output after a marker line.
    const runs = Object.entries(READERS).flatMap(([readerName, reader]) =>
      ([1, 2] as const).map((w) => ({ key: `${readerName}<-v${w}`, args: [reader, WRITERS[w], ...fixturesOf(w)] })),
    );
    const script = [
      'set -e',
      'CP=$(ls /opt/apicurio/lib/org.apache.avro.avro-*.jar /opt/apicurio/lib/com.fasterxml.jackson.core.*.jar /opt/apicurio/lib/org.slf4j.slf4j-api-*.jar | tr "\\n" ":")',
      ...runs.map((r) => `echo '@@ ${r.key}'; java -cp "$CP" test/jvm/ReadFrames.java ${r.args.join(' ')}`),
    ].join('\n');
    const { stdout } = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${schemasDir}:/s:ro`,
        '-w',
        '/s',
        '--entrypoint',
        'sh',
        image,
        '-c',
        script,
      ],
      { timeout: 150_000, maxBuffer: 16 << 20 },
    );
    let current: unknown[] | undefined;
    for (const line of stdout.split('\n')) {
      if (line.startsWith('@@ ')) lines.set(line.slice(3), (current = []));
      else if (line.startsWith('{')) current?.push(JSON.parse(line));
    }
  });

  for (const readerName of Object.keys(READERS) as (keyof typeof READERS)[]) {
    for (const w of [1, 2] as const) {
      it(`reads every v${w} fixture as ${readerName}, as avsc does`, () => {
        const got = lines.get(`${readerName}<-v${w}`);
        const files = fixturesOf(w);
        assert.equal(got?.length, files.length, `java printed ${got?.length} record(s) for ${files.length} fixture(s)`);
        files.forEach((file, i) => assert.deepEqual(got![i], avscRead(READERS[readerName], WRITERS[w], file), file));
      });
    }
  }

  it('v1 readers get the committed op from `op`, the projection from `components` (empty for v1 records)', () => {
    for (const w of [1, 2] as const) {
      fixturesOf(w).forEach((file, i) => {
        const expected = JSON.parse(
          readFileSync(`${schemasDir}${file.replace(/\.hex$/, '.json')}`, 'utf8'),
        ) as OpCommitted;
        const asV1 = lines.get(`v1<-v${w}`)![i] as { op: AvroUnionComponent[] };
        assert.deepEqual(fromUnionComponents(asV1.op), expected.op, file);
        const projected = lines.get(`components<-v${w}`)![i] as Record<string, unknown>;
        assert.equal('op' in projected, false);
        const components = projected['components'] as AvroOpComponent[];
        assert.deepEqual(w === 1 ? components : fromOpComponents(components), w === 1 ? [] : expected.op, file);
      });
    }
  });
});
