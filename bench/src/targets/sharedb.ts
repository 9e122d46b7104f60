/**
 * The reference peer: ShareDB 7 with our OT type registered (so both systems apply the very same ops), its
 * WebSocket server (`ws` + @teamwork/websocket-json-stream, the adapter ShareDB's docs use) and its own client
 * over real sockets, in the user processes like ours. Backends: the in-memory one (ShareDB's default) or, with
 * `sharedb-postgres`, a PostgreSQL the caller started (durable, like our Kafka log).
 *
 * Measured the same way as ours: submitOp's callback fires when the op (composed with others typed meanwhile,
 * as ShareDB does) is acknowledged; a remote 'op' event is a delivery at the doc's new version. Cursors go
 * through ShareDB's own doc presence (the type gets the transformPresence it needs, from our transformCaret), and
 * presence latency is matched per presence id like ours (see Recorder).
 */
import type { AddressInfo } from 'node:net';
import WebSocketJSONStream from '@teamwork/websocket-json-stream';
import { insertOp, removeOp, transformCaret, type, type TextOp } from '@collab/ot-text';
import ShareDB from 'sharedb';
import ShareDBClient from 'sharedb/lib/client/index.js';
import WebSocket, { WebSocketServer } from 'ws';
import type { Recorder } from '../recorder.js';
import type { ServerHalf } from '../server-child.js';
import { spawnServer, startInProcess } from '../server-process.js';
import type { SimConnection, SimDocument, Target } from '../target.js';
import { startPostgres } from './postgres.js';

const COLLECTION = 'docs';

export interface ShareDbBackend {
  description: string;
  /** Processes of the backend outside the server's own tree (PostgreSQL's postmaster), for the CPU figures. */
  helpers?: { name: string; pid: number }[];
  /** A ShareDB DB adapter instance (undefined: the in-memory default). */
  db?: unknown;
  close(): Promise<void>;
}

/** Our type as ShareDB's presence needs it: a caret (a code point index) moved through an op. */
const typeWithPresence = {
  ...type,
  transformPresence: (caret: unknown, op: TextOp, isOwnOp: boolean) =>
    typeof caret === 'number' ? transformCaret(caret, op, isOwnOp) : caret,
};

export interface ShareDbServerArgs {
  backend: 'memory' | 'postgres';
}

/** The server half, in a child process (server-child.ts): ShareDB, its backend and its WebSocket server. */
export async function startShareDbServer(args: ShareDbServerArgs): Promise<ServerHalf> {
  ShareDB.types.register(typeWithPresence);
  const storage: ShareDbBackend =
    args.backend === 'postgres'
      ? await startPostgres()
      : { description: 'in-memory backend', close: () => Promise.resolve() };
  const backend = new ShareDB({
    presence: true,
    doNotForwardSendPresenceErrorsToClient: true,
    ...(storage.db === undefined ? {} : { db: storage.db }),
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws: WebSocket) => {
    const stream = new WebSocketJSONStream(ws);
    // A dropped client makes the next write fail (EPIPE): that is the drop the bench asked for, not a crash.
    stream.on('error', () => {});
    ws.on('error', () => {});
    backend.listen(stream);
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    description: `ShareDB 7 (${storage.description}), @collab/ot-text registered, ws + websocket-json-stream`,
    containers: [],
    helpers: storage.helpers ?? [],
    async prepare(docIds) {
      const connection = backend.connect();
      await Promise.all(
        docIds.map(
          (id) =>
            new Promise<void>((resolve, reject) => {
              const doc = connection.get(COLLECTION, id);
              doc.create('', type.uri, (err: unknown) => (err ? reject(err as Error) : resolve()));
            }),
        ),
      );
      connection.close();
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => backend.close(resolve));
      await storage.close();
    },
  };
}

/** The client half: the bench process's view; ShareDB runs in a child process like our services. */
export async function startShareDbTarget(
  backend: ShareDbServerArgs['backend'],
  where: 'processes' | 'in-process',
): Promise<Target> {
  registerShareDbClientType(); // the client side (the loader here) needs the type too
  const server =
    where === 'in-process'
      ? await startInProcess('bench process', () => startShareDbServer({ backend }))
      : await spawnServer('sharedb', 'sharedb', { backend } satisfies ShareDbServerArgs);
  return {
    name: backend === 'memory' ? 'sharedb' : 'sharedb (postgres)',
    description: `${server.description}, ${where === 'in-process' ? 'in the bench process' : 'in a process of its own'}`,
    containers: [],
    processes: [server],
    endpoint: { kind: 'sharedb', url: server.url },
    prepare: (docIds) => server.prepare(docIds),
    connect: (_userId, recorder) => connectShareDbUser(server.url, recorder),
    close: () => server.close(),
  };
}

/** ShareDB's client needs the type registered too (in every process with users). */
export function registerShareDbClientType(): void {
  ShareDB.types.register(typeWithPresence);
}

export async function connectShareDbUser(url: string, recorder: Recorder): Promise<SimConnection> {
  let socket = new WebSocket(url);
  const connection = new ShareDBClient.Connection(socket);
  const receiver = String(Math.random()).slice(2);
  let closed = false;
  let online = false;
  // ShareDB's client does not reconnect by itself: bind a new socket after a jittered delay, like our SDK's
  // first retry (full jitter up to 500 ms). The connection resends its in-flight op (deduplicated by src/seq).
  const rebindOnClose = () => {
    socket.once('close', () => {
      if (closed) return;
      setTimeout(() => {
        socket = new WebSocket(url);
        connection.bindToSocket(socket);
        rebindOnClose();
      }, Math.random() * 500);
    });
  };
  rebindOnClose();
  connection.on('state', (state: string) => {
    if (state === 'connected' && online) recorder.reconnects++;
    if (state === 'connected') {
      online = true;
      recorder.presenceReset(receiver); // it missed updates while away: match afresh
    }
  });
  connection.on('error', (err: { code?: string }) => recorder.error(err.code ?? 'ERR_CONNECTION'));
  return {
    open: (docId) => openShareDbDoc(connection, docId, recorder, receiver),
    drop: () => socket.terminate(),
    close: () => {
      closed = true;
      connection.close();
      return Promise.resolve();
    },
  };
}

function openShareDbDoc(connection: any, docId: string, recorder: Recorder, receiver: string): Promise<SimDocument> {
  const doc = connection.get(COLLECTION, docId);
  // ShareDB's presence waits on the doc ('nothing pending') once per cursor update: not a leak.
  doc.setMaxListeners(0);
  const presence = connection.getDocPresence(COLLECTION, docId);
  presence.subscribe();
  presence.on('receive', (presenceId: string, value: unknown) => {
    if (value !== null) recorder.presenceReceived(receiver, docId, presenceId);
  });
  presence.on('error', (err: { code?: string }) => recorder.error(err.code ?? 'ERR_PRESENCE'));
  const local = presence.create();
  return new Promise((resolve, reject) => {
    doc.subscribe((err: unknown) => {
      if (err) return reject(err as Error);
      doc.on('op', (_op: unknown, source: unknown) => {
        if (source === false) recorder.seenBy(docId, doc.version as number);
      });
      let pending = 0;
      const submit = (op: unknown) => {
        const typedAt = recorder.keystroke();
        pending++;
        doc.submitOp(op, (error: { code?: string } | null | undefined) => {
          pending--;
          if (error) return recorder.error(error.code ?? 'ERR_SUBMIT');
          // ShareDB bumps the version before calling back: the op is version - 1, the state after it `version`.
          recorder.acked(docId, doc.version as number, [typedAt]);
        });
      };
      const text = () => String(doc.data);
      resolve({
        get text() {
          return text();
        },
        get length() {
          const data = doc.data;
          return typeof data === 'string' ? data.length : (data.utf16Length as number);
        },
        get version() {
          return doc.version as number;
        },
        get pending() {
          return pending;
        },
        insert: (offset, value) => submit(insertOp(offset, value)),
        delete: (offset, length) => submit(removeOp(offset, length)),
        setCursor(offset) {
          recorder.presenceSent(docId, local.presenceId as string);
          local.submit(offset, (error: { code?: string } | null | undefined) => {
            if (error) recorder.error(error.code ?? 'ERR_PRESENCE');
          });
        },
        close: () => {
          presence.destroy();
          doc.destroy();
        },
      });
    });
  });
}
