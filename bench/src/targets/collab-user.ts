/**
 * A simulated user of our system: the SDK (CollabClient) over a real `ws` WebSocket. Keystroke → ack latency is
 * read from the SDK's 'pending' count (keystrokes awaiting ack, acked in order), so it is the same measure as
 * ShareDB's per-submit callback.
 */
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import WebSocket from 'ws';
import type { Recorder } from '../recorder.js';
import type { SimConnection, SimDocument } from '../target.js';

export function connectCollabUser(url: string, token: () => Promise<string>, recorder: Recorder): SimConnection {
  let socket: WebSocket | undefined;
  // Keeps the socket the SDK made, so the bench can kill it without the SDK's knowledge.
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      socket = this; // eslint-disable-line @typescript-eslint/no-this-alias
      // ws emits 'error' (and then 'close') when a socket is closed while connecting, e.g. by the SDK's
      // handshake timeout; the SDK learns from the close, and an unheard 'error' would crash the bench.
      this.on('error', () => {});
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
    // No setCursor yet: the SDK's presence (ClientDocument.setCursor) is still being written, and the server
    // refuses presence messages unless a presence router is wired, which this in-process stack does not do yet.
    close: () => doc.close(),
  };
}
