/**
 * Schema ids with a registry: they are the registry's (global, shared with every other subject), so the local
 * table's ids 1 and 2 mean nothing there. The codec trusts the registry's schema of an id, falls back to the local
 * table only for an id the registry does not resolve to an OpCommitted schema (records written before a registry
 * was configured), knows the ids resolved at start without asking again, and refuses the rest as ERR_CORRUPT.
 * The registry here is the `lookup` function the registry codec gives (schemas/src/registry-codec.ts); the real
 * registry is exercised by packages/kafka/test/schema-registry.int.test.ts.
 */
import assert from 'node:assert/strict';
import type avro from 'avsc';
import { CollabError, isCollabError } from '@collab/core';
import {
  OpCommittedCodec,
  localOpCommittedCodecFor,
  readFrame,
  readSchemaFile,
  schemaVersion,
  writeFrame,
} from '../src/index.js';
import { OP_COMMITTED_SAMPLES } from './support/op-committed-samples.js';

const sample = OP_COMMITTED_SAMPLES['emoji-and-delete-text']!;
const v1Body = readFrame(localOpCommittedCodecFor(1).encode(sample)).body;
const v2Body = readFrame(localOpCommittedCodecFor(2).encode(sample)).body;
const v1Schema = readSchemaFile(schemaVersion('op-committed', 1));

/** A registry holding these schemas by id, counting the lookups. */
function registry(schemas: Record<number, avro.Schema>) {
  const calls: number[] = [];
  const lookup = (id: number): Promise<avro.Schema | undefined> => {
    calls.push(id);
    return Promise.resolve(schemas[id]);
  };
  return { lookup, calls };
}

async function decode(codec: OpCommittedCodec, frame: Buffer) {
  await codec.prepare(frame);
  return codec.decode(frame);
}

describe('OpCommitted codec with a registry: whose id is it', () => {
  it("reads an id by the registry's schema even when the local table has that id for another version", async () => {
    // A registry shared with other subjects gave v1 the global id 2; locally, 2 is v2.
    const { lookup } = registry({ 2: v1Schema });
    const codec = new OpCommittedCodec(41, { lookup });
    assert.deepEqual(await decode(codec, writeFrame(2, v1Body)), sample);
  });

  it('falls back to the local table for an id the registry does not have (records from before the registry)', async () => {
    const { lookup } = registry({});
    const codec = new OpCommittedCodec(41, { lookup });
    assert.deepEqual(await decode(codec, writeFrame(1, v1Body)), sample);
    assert.deepEqual(await decode(codec, writeFrame(2, v2Body)), sample);
  });

  it('falls back to the local table when the id is some other record in the registry', async () => {
    const { lookup } = registry({ 1: { type: 'record', name: 'Unrelated', fields: [] } });
    const codec = new OpCommittedCodec(41, { lookup });
    assert.deepEqual(await decode(codec, writeFrame(1, v1Body)), sample);
  });

  it('refuses an id that is neither an OpCommitted in the registry nor a local id (ERR_CORRUPT), asking once', async () => {
    const { lookup, calls } = registry({ 7: { type: 'record', name: 'Unrelated', fields: [] } });
    const codec = new OpCommittedCodec(41, { lookup });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(decode(codec, writeFrame(7, v2Body)), (err: unknown) => {
        assert.ok(isCollabError(err) && err.code === 'ERR_CORRUPT', String(err));
        assert.match(err.message, /unknown Avro schema id 7 \(not an OpCommitted schema/);
        return true;
      });
    }
    assert.deepEqual(calls, [7]);
  });

  it('knows its own id and the ids resolved at start without a lookup', () => {
    const lookup = (): Promise<avro.Schema | undefined> => Promise.reject(new Error('no lookup expected'));
    const codec = new OpCommittedCodec(41, { lookup, knownIds: new Map([[40, 1]]) });
    const frame = writeFrame(40, v1Body);
    assert.equal(codec.prepare(frame), undefined);
    assert.deepEqual(codec.decode(frame), sample);
    assert.deepEqual(codec.decode(codec.encode(sample)), sample);
    assert.equal(readFrame(codec.encode(sample)).schemaId, 41);
  });

  it('an unreachable registry fails prepare, and the id is asked again next time', async () => {
    let up = false;
    const lookup = (id: number): Promise<avro.Schema | undefined> =>
      up
        ? Promise.resolve(id === 40 ? v1Schema : undefined)
        : Promise.reject(new CollabError('ERR_UNAVAILABLE', 'down'));
    const codec = new OpCommittedCodec(41, { lookup });
    const frame = writeFrame(40, v1Body);
    await assert.rejects(Promise.resolve(codec.prepare(frame)), /down/);
    up = true;
    assert.deepEqual(await decode(codec, frame), sample);
  });
});
