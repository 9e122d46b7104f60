/**
 * The embedded server and the CLI against hostile ids, end to end: a user id and a clientId carrying terminal
 * escape sequences, written through the real `collab serve` by an SDK client, come out of `collab doc history`
 * escaped (the terminal never receives an ESC or CSI from them); and the embedded server refuses tokens that live
 * longer than COLLAB_JWT_MAX_LIFETIME_SECONDS.
 */
import assert from 'node:assert/strict';
import { CollabClient } from '@collab/client';
import { signDevToken } from '@collab/command-service';
import WebSocket from 'ws';
import { cleanEnv, cli, startServer, tempDataDir, until, type ServerProcess } from './support/cli.js';

const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e!';
const EVIL_USER = 'eve\u001b]0;owned\u0007\u001b[2J';
const EVIL_CLIENT = 'c\u009b31m\u202eklaw';

/** The first message the server answers an `auth` with. */
function authAnswer(url: string, token: string): Promise<{ t: string; code?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ t: 'auth', token, protocol: 1 })));
    ws.once('message', (data) => {
      ws.close();
      resolve(JSON.parse(String(data)) as { t: string; code?: string; message?: string });
    });
  });
}

describe('hostile ids through collab serve and collab doc history (end to end)', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  const env = cleanEnv({ COLLAB_JWT_SECRET: SECRET, COLLAB_JWT_MAX_LIFETIME_SECONDS: '3600' });
  let server: ServerProcess;
  let client: CollabClient | undefined;

  before(async () => {
    server = await startServer(data.dir, 0, env);
  });
  after(async () => {
    client?.close();
    if (server !== undefined && server.child.exitCode === null) await server.stop('SIGTERM');
    data.remove();
  });

  it('doc history prints ids with terminal escapes escaped, in the table and in --json', async () => {
    client = new CollabClient({
      url: server.wsUrl,
      token: () =>
        signDevToken({ secret: SECRET, userId: EVIL_USER, docs: { '*': ['read', 'write'] }, expiresIn: '1h' }),
      WebSocket: WebSocket as never,
      clientId: EVIL_CLIENT,
    });
    const doc = await client.openDocument('notes');
    doc.insert(0, 'hello');
    await until('the edit is acknowledged', () => doc.pendingCount === 0);
    const reader = await signDevToken({ secret: SECRET, userId: 'reader', docs: { '*': ['read'] }, expiresIn: '1h' });
    await until('the edit is projected', async () => {
      const r = await fetch(`${server.url}/v1/docs/notes`, { headers: { authorization: `Bearer ${reader}` } });
      return r.ok && ((await r.json()) as { version: number }).version === 1;
    });

    const table = await cli(['doc', 'history', 'notes', '--data-dir', data.dir], env);
    assert.doesNotMatch(table.replaceAll('\n', ''), /[\p{Cc}\u202e]/u, `no control character reaches the terminal`);
    assert.ok(table.includes('eve\\u001b]0;owned\\u0007\\u001b[2J'), table);
    assert.ok(table.includes('c\\u009b31m\\u202eklaw'), table);

    const json = await cli(['doc', 'history', 'notes', '--json', '--data-dir', data.dir], env);
    assert.doesNotMatch(json.replaceAll('\n', ''), /[\p{Cc}\u202e]/u);
    const page = JSON.parse(json) as { items: Array<{ userId: string; clientId: string }> };
    assert.deepEqual(
      page.items.map((i) => [i.userId, i.clientId]),
      [[EVIL_USER, EVIL_CLIENT]],
      'the JSON still says exactly what is stored',
    );
  });

  it('refuses a token valid for longer than COLLAB_JWT_MAX_LIFETIME_SECONDS', async () => {
    const long = await cli(['token', '--user', 'alice', '--expires', '2h', '--data-dir', data.dir], env);
    const answer = await authAnswer(server.wsUrl, long.trim());
    assert.equal(answer.t, 'error');
    assert.equal(answer.code, 'ERR_TOKEN_INVALID');
    assert.match(String(answer.message), /at most 3600 s/);
    const short = await cli(['token', '--user', 'alice', '--expires', '30m', '--data-dir', data.dir], env);
    assert.equal((await authAnswer(server.wsUrl, short.trim())).t, 'welcome');
  });
});
