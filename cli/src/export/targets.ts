/** The byte outputs of the NDJSON and Avro sinks: a file (OutputFile) or stdout, with the same small interface. */
import { once } from 'node:events';
import { OutputFile } from './output-file.js';

export interface ByteTarget {
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /** On disk (a file); nothing to do for stdout. */
  sync(): Promise<void>;
  readonly bytes: number;
  close(): Promise<void>;
}

export function stdoutTarget(): ByteTarget {
  let bytes = 0;
  return {
    async append(chunks) {
      for (const chunk of chunks) {
        bytes += chunk.length;
        if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      }
    },
    sync: async () => {},
    get bytes() {
      return bytes;
    },
    close: async () => {},
  };
}

export async function fileTarget(path: string, resumeAt?: number): Promise<ByteTarget> {
  return OutputFile.open(path, resumeAt);
}
