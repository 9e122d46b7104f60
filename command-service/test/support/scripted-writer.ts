/** A scripted partition writer and a recording subscriber, for the sequencer's unit tests. */
import assert from 'node:assert/strict';
import type { AppendInput, Offset, PartitionWriter } from '@collab/core';
import type { ServerMessage } from '@collab/protocol';
import type { Subscriber } from '../../src/documents/document-channel.js';

/** A writer whose appends settle when the test says so, one transaction at a time like Kafka's. */
export class ScriptedWriter implements PartitionWriter {
  readonly partition = 0;
  readonly transactions: AppendInput[][] = [];
  private readonly waiting: { resolve: (o: Offset[]) => void; reject: (e: unknown) => void }[] = [];
  private offset = 0n;

  append(records: readonly AppendInput[]): Promise<Offset[]> {
    this.transactions.push([...records]);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  get inFlight(): number {
    return this.waiting.length;
  }

  /** Let the oldest transaction commit. */
  async land(): Promise<void> {
    const next = this.waiting.shift();
    assert.ok(next, 'no transaction in flight');
    const count = this.transactions[this.transactions.length - 1 - this.waiting.length]!.length;
    next.resolve(Array.from({ length: count }, () => this.offset++));
    await settle();
  }

  async fail(error: unknown): Promise<void> {
    const next = this.waiting.shift();
    assert.ok(next, 'no transaction in flight');
    next.reject(error);
    await settle();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  versions(): number[][] {
    return this.transactions.map((t) => t.map((r) => r.value.version));
  }
}

export const settle = () => new Promise((resolve) => setImmediate(resolve));

export class Inbox implements Subscriber {
  readonly messages: ServerMessage[] = [];
  constructor(readonly id: string) {}
  deliver(message: ServerMessage): void {
    this.messages.push(message);
  }
  of(t: ServerMessage['t']): ServerMessage[] {
    return this.messages.filter((m) => m.t === t);
  }
}
