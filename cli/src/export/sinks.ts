/**
 * Where an export goes: NDJSON (one OpCommitted JSON per line, as the log and the read API show it) or an Avro
 * object container file — the OpCommitted schema of schemas/ in its header, records in Avro binary — which any
 * Avro tool reads (avro-tools tojson, Spark, pandas via fastavro) without our code or a schema registry.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { OpCommitted } from '@collab/core';
import { currentSchema, encodeOpCommitted, readFrame, readSchemaFile, typeForId } from '@collab/schemas';
import avro from 'avsc';

export type ExportFormat = 'ndjson' | 'avro';

export interface RecordSink {
  write(op: OpCommitted): Promise<void>;
  /** Flush and close; resolves once every byte is written. */
  end(): Promise<void>;
  /** Give up after a failure (the caller removes a partial file). */
  destroy(): void;
}

/** The record as the Avro schema holds it: the codec's own validation and op mapping, then decoded back. */
export function toAvroRecord(op: OpCommitted): unknown {
  const { schemaId, body } = readFrame(encodeOpCommitted(op));
  return typeForId(schemaId).fromBuffer(body);
}

async function writeWithBackpressure(stream: Writable, chunk: unknown): Promise<void> {
  if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'error')]);
}

/** `out` undefined: stdout. */
export function createSink(format: ExportFormat, out: string | undefined): RecordSink {
  if (format === 'ndjson') {
    const stream: Writable = out === undefined ? process.stdout : createWriteStream(out);
    return {
      write: (op) => writeWithBackpressure(stream, `${JSON.stringify(op)}\n`),
      end: async () => {
        if (stream === process.stdout) return;
        stream.end();
        await finished(stream);
      },
      destroy: () => {
        if (stream !== process.stdout) stream.destroy();
      },
    };
  }
  const schema = readSchemaFile(currentSchema('op-committed'));
  // What avsc's createFileEncoder does (a BlockEncoder piped into a file), spelled out so that we can wait for
  // the file stream itself to finish: createFileEncoder returns the encoder only, whose 'finish' comes first.
  const encoder = new avro.streams.BlockEncoder(schema);
  const target: Writable = out === undefined ? process.stdout : createWriteStream(out);
  encoder.pipe(target, { end: target !== process.stdout });
  const done = target === process.stdout ? finished(encoder) : finished(target);
  done.catch(() => {}); // observed by end(); this keeps an early failure from being an unhandled rejection
  return {
    write: (op) => writeWithBackpressure(encoder, toAvroRecord(op)),
    end: async () => {
      encoder.end();
      await done;
    },
    destroy: () => {
      encoder.destroy();
      if (target !== process.stdout) target.destroy();
    },
  };
}
