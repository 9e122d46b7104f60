/**
 * Checks that every schema version in `schemas/avro/<subject>/` is compatible with all earlier versions of its
 * subject, by the schema registry's own rules (not ours): each subject's versions are registered in order under
 * a fresh scratch subject with FULL_TRANSITIVE compatibility, and each new version is first put to the
 * registry's compatibility endpoint against every earlier version. Each pair is also resolved both ways by Avro's
 * resolution rules (avsc): Apicurio 2.0.2 accepts a branch added to a union inside an array, which every older
 * reader then fails to read.
 *
 *   SCHEMA_REGISTRY_URL=http://127.0.0.1:PORT/apis/ccompat/v6 tsx --conditions=@collab/source \
 *     schemas/scripts/check-compatibility.ts [draft.avsc ...]
 *
 * Draft files (arguments) are checked as the next versions of op-committed, in order, without adding them to the
 * repository: how to try a schema change first. `comment-event:draft.avsc` checks a draft of that subject instead. (schemas/scripts/check-compatibility.sh starts a registry
 * container from the local image when the variable is unset.) Prints one line per version; exits 1 naming every
 * incompatible file, 2 without a registry URL.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { SCHEMAS, SchemaRegistryClient, readSchemaFile } from '../src/index.js';

const url = process.env.SCHEMA_REGISTRY_URL ?? '';
if (url === '') {
  console.error('SCHEMA_REGISTRY_URL is not set: the API root of a Confluent-compatible schema registry');
  process.exit(2);
}
const client = new SchemaRegistryClient({ url, timeoutMs: 10_000 });

interface Version {
  file: string;
  version: number;
  schema: avro.Schema;
}

const bySubject = new Map<string, Version[]>();
for (const entry of SCHEMAS) {
  const version = { file: entry.file, version: entry.version, schema: readSchemaFile(entry) };
  bySubject.set(entry.subject, [...(bySubject.get(entry.subject) ?? []), version]);
}
for (const arg of process.argv.slice(2)) {
  const [subject, draft] = arg.startsWith('comment-event:')
    ? ['comment-event', arg.slice('comment-event:'.length)]
    : ['op-committed', arg];
  const versions = bySubject.get(subject) ?? [];
  const schema = JSON.parse(readFileSync(draft, 'utf8')) as avro.Schema;
  versions.push({ file: `${draft} (draft)`, version: Math.max(0, ...versions.map((v) => v.version)) + 1, schema });
  bySubject.set(subject, versions);
}

/** Why avsc cannot resolve `writer` data with `reader`, or undefined when it can. */
function resolutionFailure(reader: avro.Schema, writer: avro.Schema): string | undefined {
  try {
    const types = [reader, writer].map((s) => avro.Type.forSchema(s, { wrapUnions: true }));
    types[0]!.createResolver(types[1]!);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const failures: string[] = [];
for (const [subject, entries] of bySubject) {
  const versions = [...entries].sort((a, b) => a.version - b.version);
  // A scratch subject per run: the check never depends on (or changes) what a registry already holds.
  const scratch = `compat-check-${subject}-${randomUUID()}-value`;
  for (const [i, entry] of versions.entries()) {
    const schema = JSON.stringify(entry.schema);
    let compatible = true;
    for (const [earlier, older] of versions.slice(0, i).entries()) {
      if (!(await client.isCompatibleWith(scratch, earlier + 1, schema))) {
        failures.push(`${entry.file} is not compatible with ${older.file} (the registry says so)`);
        compatible = false;
      }
      for (const [reader, writer, what] of [
        [older, entry, `${older.file} cannot read data written with ${entry.file}`],
        [entry, older, `${entry.file} cannot read data written with ${older.file}`],
      ] as const) {
        const failure = resolutionFailure(reader.schema, writer.schema);
        if (failure !== undefined) {
          failures.push(`${what} (Avro resolution, avsc: ${failure})`);
          compatible = false;
        }
      }
    }
    if (!compatible) continue; // registering it would make the next versions checked against a refused one
    try {
      await client.register(scratch, schema);
      if (i === 0) await client.setCompatibility(scratch, 'FULL_TRANSITIVE');
      console.log(
        `${entry.file}: ${i === 0 ? 'first version' : i === 1 ? 'compatible with v1' : `compatible with v1..v${i}`} (FULL_TRANSITIVE)`,
      );
    } catch (err) {
      failures.push(`${entry.file} refused by the registry: ${(err as Error).message}`);
    }
  }
}
if (failures.length > 0) {
  console.error(`incompatible schema versions (registry ${url}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
const count = [...bySubject.values()].reduce((n, versions) => n + versions.length, 0);
console.log(`${count} schema version(s) in ${bySubject.size} subject(s): compatible (registry ${url})`);
