/**
 * Checks that every schema version in `schemas/avro/<subject>/` is compatible with all earlier versions of its
 * subject, by the schema registry's own rules (not ours): each subject's versions are registered in order under
 * a fresh scratch subject with FULL_TRANSITIVE compatibility, and each new version is first put to the
 * registry's compatibility endpoint against every earlier version.
 *
 *   SCHEMA_REGISTRY_URL=http://127.0.0.1:PORT/apis/ccompat/v6 tsx --conditions=@collab/source \
 *     schemas/scripts/check-compatibility.ts
 *
 * (schemas/scripts/check-compatibility.sh starts a registry container from the local image when the variable is
 * unset.) Prints one line per version; exits 1 naming every incompatible file, 2 without a registry URL.
 */
import { randomUUID } from 'node:crypto';
import { SCHEMAS, SchemaRegistryClient, readSchemaFile, type SchemaEntry } from '../src/index.js';

const url = process.env.SCHEMA_REGISTRY_URL ?? '';
if (url === '') {
  console.error('SCHEMA_REGISTRY_URL is not set: the API root of a Confluent-compatible schema registry');
  process.exit(2);
}
const client = new SchemaRegistryClient({ url, timeoutMs: 10_000 });

const bySubject = new Map<string, SchemaEntry[]>();
for (const entry of SCHEMAS) bySubject.set(entry.subject, [...(bySubject.get(entry.subject) ?? []), entry]);

const failures: string[] = [];
for (const [subject, entries] of bySubject) {
  const versions = [...entries].sort((a, b) => a.version - b.version);
  // A scratch subject per run: the check never depends on (or changes) what a registry already holds.
  const scratch = `compat-check-${subject}-${randomUUID()}-value`;
  for (const [i, entry] of versions.entries()) {
    const schema = JSON.stringify(readSchemaFile(entry));
    if (i > 0) {
      for (let earlier = 1; earlier <= i; earlier++) {
        if (!(await client.isCompatibleWith(scratch, earlier, schema))) {
          failures.push(`${entry.file} is not compatible with ${versions[earlier - 1]!.file}`);
        }
      }
    }
    try {
      await client.register(scratch, schema);
      if (i === 0) await client.setCompatibility(scratch, 'FULL_TRANSITIVE');
      console.log(`${entry.file}: ${i === 0 ? 'first version' : `compatible with v1..v${i}`} (FULL_TRANSITIVE)`);
    } catch (err) {
      failures.push(`${entry.file} refused by the registry: ${(err as Error).message}`);
    }
  }
}
if (failures.length > 0) {
  console.error(`incompatible schema versions (registry ${url}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(`${SCHEMAS.length} schema version(s) in ${bySubject.size} subject(s): compatible (registry ${url})`);
