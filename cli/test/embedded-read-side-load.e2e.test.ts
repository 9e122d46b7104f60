/**
 * The embedded server loads a document through the read side (SQLite read models, snapshots, and the log after
 * the projection's committed offset), comment threads included: after a restart, a document with snapshots and
 * threads opens with the threads it had, and the load says it read the read side, starting at a snapshot no
 * newer than the first comment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevToken } from '@collab/command-service';
import pino from 'pino';
import { loadEmbeddedConfig, type EmbeddedConfig } from '../src/embedded-config.js';
import { startEmbedded, type EmbeddedServer } from '../src/embedded/server.js';
import { until } from './support/cli.js';
import { WsProbe } from './support/ws-probe.js';

const DOC = 'restarted';

describe('embedded: a document with threads loads from the read side after a restart', function () {
  this.timeout(60_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'collab-read-side-load-'));
  let config: EmbeddedConfig;
  let server: EmbeddedServer | undefined;
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Until the read API (the read models) has the document at `version`: the projection has caught up. */
  const projected = async (s: EmbeddedServer, version: number) => {
    const token = await signDevToken({ secret: config.jwtSecret, userId: 'alice', docs: { '*': ['read'] } });
    await until(`the read models at version ${version}`, async () => {
      const response = await fetch(`${s.url}/v1/docs/${DOC}`, { headers: { authorization: `Bearer ${token}` } });
      return response.ok && ((await response.json()) as { version: number }).version >= version;
    });
  };

  const connect = async (s: EmbeddedServer) => {
    const token = await signDevToken({
      secret: config.jwtSecret,
      userId: 'alice',
      docs: { '*': ['read', 'write', 'comment'] },
    });
    const probe = await WsProbe.connect(`${s.url.replace(/^http/, 'ws')}/v1/ws`, token);
    probe.send({ t: 'open', docId: DOC });
    return { probe, threads: await probe.next((m) => m.t === 'comments') };
  };

  it('opens with the same threads, loaded from snapshot + read models + the log tail', async () => {
    config = loadEmbeddedConfig({ LOG_LEVEL: 'silent', COLLAB_SNAPSHOT_EVERY: '3' }, { port: '0', dataDir });
    server = await startEmbedded(config, pino({ level: 'silent' }));
    const { probe } = await connect(server);
    let seq = 0;
    const submit = async (op: unknown[]) => {
      seq++;
      probe.send({ t: 'submit', docId: DOC, clientId: 'a', seq, baseVersion: seq - 1, op });
      await probe.next((m) => m.t === 'ack');
    };
    const comment = async (command: Record<string, unknown>) => {
      probe.send({ t: 'comment', docId: DOC, ref: 'r', command });
      await probe.next((m) => m.t === 'comment-ack');
    };
    for (let i = 0; i < 7; i++) await submit([`${i}`]);
    const create = { kind: 'create', threadId: 't1', messageId: 'm1', anchor: { start: 2, end: 5 }, version: 7 };
    await comment({ ...create, text: 'look' });
    for (let i = 0; i < 5; i++) await submit(['ab']);
    await comment({ kind: 'reply', threadId: 't1', messageId: 'm2', text: 'ok' });
    await submit(['!']);
    probe.close();
    const { probe: again, threads: before } = await connect(server);
    again.close();
    await projected(server, 13);
    await server.close();

    const logs: Record<string, unknown>[] = [];
    const capture = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
    server = await startEmbedded(config, pino({ level: 'info' }, capture));
    const { probe: reopened, threads: after } = await connect(server);
    reopened.close();
    assert.deepEqual([after.version, after.threads], [before.version, before.threads]);
    assert.equal((after.threads as unknown[]).length, 1);
    const load = logs.find(
      (l) => l.msg === 'document loaded from snapshot + read models + log tail' && l.docId === DOC,
    );
    assert.ok(load !== undefined, `a read-side load: ${JSON.stringify(logs.filter((l) => l.docId === DOC))}`);
    assert.equal(load.version, 13);
    assert.equal(load.commentEvents, 2);
    // The snapshot-service snapshots the document on shutdown (version 13); that one holds no threads to start from.
    assert.ok(load.snapshot === undefined || (load.snapshot as number) <= 7, `snapshot ${String(load.snapshot)}`);
    assert.ok((load.readModelOps as number) > 0, 'ops from the read models');
  });
});
