/**
 * Every error answering a submit must name the submit's seq, whichever stage of the server raised it: the SDK
 * ties an error to its in-flight op by the seq alone, and without it keeps waiting for an ack that never comes.
 * Found while looking into a chaos run's stuck client (npm run chaos, seed 1): refusals from the hub that named
 * only the document were already given the seq by the session, but an unexpected error (a bug of ours) went out
 * as ERR_INTERNAL without docId or seq — the third test failed before the session's fix.
 */
import assert from 'node:assert/strict';
import type { ServerMessage } from '@collab/protocol';
import { PROTOCOL_VERSION } from '@collab/protocol';
import { signDevToken, TokenVerifier } from '../src/auth/tokens.js';
import type { DocumentHub } from '../src/documents/document-hub.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { Session } from '../src/session/session.js';

const SECRET = 'session-submit-errors-secret-0123456789abcdef';
const LIMITS = {
  maxFrameBytes: 256 * 1024,
  maxOpInsertLength: 64 * 1024,
  maxOpComponents: 2048,
  maxDocumentLength: 1024 * 1024,
  maxDocuments: 8,
  maxUnacked: 64,
  opsPerSecond: 100,
  opensPerSecond: 100,
  messagesPerSecond: 1000,
};
const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** A session whose hub opens every document and answers every submission with `refusal`. */
async function sessionRefusingWith(refusal: () => Error): Promise<{ session: Session; sent: ServerMessage[] }> {
  const sent: ServerMessage[] = [];
  const hub = {
    open: async (subscriber: { deliver(m: ServerMessage): void }, docId: string) =>
      subscriber.deliver({ t: 'snapshot', docId, version: 0, text: '' } as ServerMessage),
    close: async () => {},
    submit: async () => {
      throw refusal();
    },
  } as unknown as DocumentHub;
  const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
  const session = new Session(
    { send: (m) => sent.push(m), close: () => {} },
    { hub, verifier, limits: LIMITS, heartbeatMs: 30_000, now: Date.now, logger: silent as never },
  );
  const token = await signDevToken({ secret: SECRET, userId: 'u', docs: { '*': ['read', 'write'] } });
  await session.receive(JSON.stringify({ t: 'auth', token, protocol: PROTOCOL_VERSION }));
  await session.receive(JSON.stringify({ t: 'open', docId: 'd' }));
  return { session, sent };
}

async function errorFor(refusal: () => Error): Promise<Extract<ServerMessage, { t: 'error' }>> {
  const { session, sent } = await sessionRefusingWith(refusal);
  await session.receive(JSON.stringify({ t: 'submit', docId: 'd', clientId: 'c', seq: 7, baseVersion: 0, op: ['x'] }));
  // The submission is handled off the frame queue (the next frame may be the next op): wait for its answer.
  for (let i = 0; i < 100 && !sent.some((m) => m.t === 'error'); i++) await new Promise((r) => setImmediate(r));
  const error = sent.find((m): m is Extract<ServerMessage, { t: 'error' }> => m.t === 'error');
  assert.ok(error, `an error was sent: ${JSON.stringify(sent)}`);
  return error;
}

describe('session: every error answering a submit names its seq', () => {
  it('a hub refusal that names only the document (ERR_DOC_NOT_OPEN, as after a lost subscription)', async () => {
    const error = await errorFor(() => new ProtocolError('ERR_DOC_NOT_OPEN', 'Open document d first.', { docId: 'd' }));
    assert.deepEqual([error.code, error.docId, error.seq], ['ERR_DOC_NOT_OPEN', 'd', 7]);
  });

  it('ERR_NOT_OWNER after the hub ran out of attempts stays retriable, with the seq to resend', async () => {
    const error = await errorFor(() => new ProtocolError('ERR_NOT_OWNER', 'Not the owner of d.', { docId: 'd' }));
    assert.deepEqual([error.code, error.seq, error.retriable], ['ERR_NOT_OWNER', 7, true]);
  });

  it('an unexpected error (a bug of ours) is ERR_INTERNAL with the seq, so the client gives the op back', async () => {
    const error = await errorFor(() => new TypeError('boom'));
    assert.deepEqual([error.code, error.docId, error.seq], ['ERR_INTERNAL', 'd', 7]);
  });
});
