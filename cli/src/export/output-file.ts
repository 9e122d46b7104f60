/**
 * A file an export appends to, knowing how many bytes it holds: opened fresh (emptied) or, on a resume, cut back
 * to the length a checkpoint recorded (whatever was written after that checkpoint goes, and is written again).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CollabError } from '@collab/core';

export class OutputFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private length: number,
  ) {}

  /** `resumeAt` undefined: a new, empty file. */
  static async open(path: string, resumeAt?: number): Promise<OutputFile> {
    if (resumeAt === undefined) return new OutputFile(await open(path, 'w'), path, 0);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (err) {
      throw new CollabError('ERR_NOT_FOUND', `cannot resume into ${path}: ${(err as Error).message}`, { cause: err });
    }
    const { size } = await handle.stat();
    if (size < resumeAt) {
      await handle.close();
      throw new CollabError(
        'ERR_CORRUPT',
        `cannot resume into ${path}: it has ${size} bytes, fewer than the ${resumeAt} its checkpoint counted`,
      );
    }
    await handle.truncate(resumeAt);
    return new OutputFile(handle, path, resumeAt);
  }

  get bytes(): number {
    return this.length;
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, written, chunk.length - written, this.length);
        written += bytesWritten;
        this.length += bytesWritten;
      }
    }
  }

  /** Everything appended is on disk. */
  sync(): Promise<void> {
    return this.handle.sync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
