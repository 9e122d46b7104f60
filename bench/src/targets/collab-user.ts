/**
 * A simulated user of our system: the SDK (CollabClient) over a real `ws` WebSocket. Keystroke → ack latency is
 * read from the SDK's 'pending' count (keystrokes awaiting ack, acked in order), so it is the same measure as
 * ShareDB's per-submit callback.
 */
import { randomUUID } from 'node:crypto';
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import WebSocket from 'ws';
import type { Recorder } from '../recorder.js';
import type { SimConnection, SimDocument } from '../target.js';

/** Presence updates sent from this process so far: each one's tag (see TrackedWebSocket.send). */
let presenceTags = 0;

export function connectCollabUser(url: string, token: () => Promise<string>, recorder: Recorder): SimConnection {
  let socket: WebSocket | undefined;
  const receiver = randomUUID();
  // Keeps the socket the SDK made, so the bench can kill it without the SDK's knowledge.
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      socket = this; // eslint-disable-line @typescript-eslint/no-this-alias
      // ws emits 'error' (and then 'close') when a socket is closed while connecting, e.g. by the SDK's
      // handshake timeout; the SDK learns from the close, and an unheard 'error' would crash the bench.
      this.on('error', () => {});
      // Presence latency, on the wire (see Recorder): our sends, and the updates the server sends us.
      let sessionId: string | undefined;
      this.on('message', (data: WebSocket.RawData) => {
        const text = String(data);
        if (text.startsWith('{"t":"welcome"')) {
          sessionId = (JSON.parse(text) as { sessionId: string }).sessionId;
          recorder.presenceReset(receiver);
        } else if (text.startsWith('{"t":"presence"') && text.includes('"update"')) {
          const m = JSON.parse(text) as { docId: string; update?: { sessionId: string; color: string } };
          if (m.update !== undefined) {
            recorder.presenceReceived(receiver, m.docId, m.update.sessionId, m.update.color);
          }
        }
      });
      const send = this.send.bind(this);
      this.send = ((data: unknown, ...rest: unknown[]) => {
        if (typeof data === 'string' && data.startsWith('{"t":"presence"') && sessionId !== undefined) {
          // Each update gets a colour of its own: the server passes it through to the others, so a receipt is
          // timed from its own send even when the server let a newer update replace older ones on the way.
          const message = JSON.parse(data) as { docId: string; color?: string };
          message.color = `#${(++presenceTags & 0xffffff).toString(16).padStart(6, '0')}`;
          recorder.presenceSent(message.docId, sessionId, message.color);
          data = JSON.stringify(message);
        }
        return (send as (...a: unknown[]) => void)(data, ...rest);
      }) as typeof this.send;
    }
  }
  const client = new CollabClient({
    url,
    token,
    WebSocket: TrackedWebSocket as never,
  });
  let wasOnline = false;
  client.events.on('state', ({ state }) => {
    if (state === 'online' && wasOnline) recorder.reconnects++;
    if (state === 'online') wasOnline = true;
  });
  client.events.on('error', ({ code }) => recorder.error(code));
  return {
    open: async (docId) => wrap(await client.openDocument(docId), recorder),
    drop: () => socket?.terminate(),
    close: async () => client.close(),
  };
}

function wrap(doc: ClientDocument, recorder: Recorder): SimDocument {
  const editTimes: number[] = [];
  let ackedVersion: number | undefined;
  doc.on('ack', ({ version }) => {
    ackedVersion = version;
  });
  doc.on('pending', ({ count }) => {
    // Keystrokes are acked oldest first: everything beyond `count` from the front is durable now.
    const done = editTimes.splice(0, Math.max(0, editTimes.length - count));
    if (done.length > 0) recorder.acked(doc.id, ackedVersion, done);
    ackedVersion = undefined;
  });
  doc.on('change', ({ source, version }) => {
    if (source === 'remote') recorder.seenBy(doc.id, version);
  });
  doc.on('error', ({ code }) => recorder.error(code));
  return {
    get text() {
      return doc.text;
    },
    get length() {
      return doc.length;
    },
    get version() {
      return doc.version;
    },
    get pending() {
      return doc.pendingCount;
    },
    insert(offset, text) {
      doc.insert(offset, text);
      editTimes.push(recorder.keystroke());
    },
    delete(offset, length) {
      doc.delete(offset, length);
      editTimes.push(recorder.keystroke());
    },
    setCursor(offset) {
      doc.setCursor(offset);
    },
    close: () => doc.close(),
  };
}
