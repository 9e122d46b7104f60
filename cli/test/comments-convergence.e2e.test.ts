/**
 * Comment anchors converge (issue 17): several SDK clients on the embedded server (in this process, real
 * WebSockets whose frames each way are held back by seeded random delays), typing and deleting concurrently while
 * they create, reply to, edit, resolve, reopen and delete threads, and now and then losing their connection
 * (reconnect, catch-up, the threads sent again). After every step each client's threads — at the version it has
 * integrated — must equal the server's at that version: the log read from the server's SQLite file and folded with
 * the core's rules (after op N, or after one of the comment events at N). At the end, everyone agrees with the
 * whole log.
 *
 * Seeded: COMMENTS_SEED=<n> replays a run; the seed is in every failure message.
 */
import assert from 'node:assert/strict';
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import { laggySocketClass } from '@collab/client/testing';
import WebSocket from 'ws';
import { seededRandom } from '@collab/core';
import { startTestServer, type TestServer } from '@collab/cli/testing';
import { readCommentTruth, threadsJson } from './support/comment-log.js';

const DOC = 'comments-convergence';
const CLIENTS = 4;
const STEPS = 160;
/** Codes a comment command may meet in a race (a thread deleted meanwhile); anything else is a failure. */
const RACE_CODES = new Set(['ERR_COMMENT_NOT_FOUND']);

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('comment threads converge: every client has the server’s anchors at every version', function () {
  this.timeout(180_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it(`seeded run (COMMENTS_SEED=${process.env.COMMENTS_SEED ?? 'random'})`, async () => {
    const seed = Number(process.env.COMMENTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    const where = `(COMMENTS_SEED=${seed})`;
    const int = (n: number) => Math.floor(random() * n);
    const { LaggySocket, sockets } = laggySocketClass(WebSocket, random, 15);
    const clients: CollabClient[] = [];
    const docs: ClientDocument[] = [];
    const users: string[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const user = `user-${c}`;
      users.push(user);
      const client = new CollabClient({
        url: server.wsUrl,
        token: () => server.token(user, { docs: { '*': ['read', 'write', 'comment'] } }),
        WebSocket: LaggySocket,
        reconnect: { initialMs: 10, maxMs: 200, factor: 2, jitter: 1 },
      });
      clients.push(client);
      docs.push(await client.openDocument(DOC));
    }
    const commands: Promise<unknown>[] = [];
    const unexpected: string[] = [];
    const stats = { edits: 0, comments: 0, kills: 0, checks: 0, races: 0 };
    const track = (p: Promise<unknown>, what: string) =>
      commands.push(
        p.catch((err: { code?: string; message?: string }) => {
          if (err.code !== undefined && RACE_CODES.has(err.code)) stats.races++;
          else unexpected.push(`${what}: ${err.code} ${err.message}`);
        }),
      );

    /** Every loaded client's confirmed threads equal one of the server's states at its version. */
    const check = (step: number) => {
      const truth = readCommentTruth(server.dataDir, DOC);
      docs.forEach((doc, c) => {
        if (!doc.comments.isLoaded) return; // reconnecting: the re-open's answer brings the threads whole
        const { version, threads } = doc.comments.confirmed;
        assert.equal(version, doc.version, `client ${c}: threads and text at the same version ${where}`);
        const candidates = (truth.states.get(version) ?? []).map((s) => threadsJson(s.threads.values()));
        const mine = threadsJson(threads.values());
        assert.ok(
          candidates.includes(mine),
          `step ${step}, client ${c} at version ${version}: its threads ${mine} are none of the server's at that version: ${candidates.join('\n')}\nthe log's end:\n${truth.records.slice(-20).join('\n')} ${where}`,
        );
        stats.checks++;
      });
    };

    for (let step = 0; step < STEPS; step++) {
      const c = int(CLIENTS);
      const doc = docs[c]!;
      const threads = doc.comments.threads;
      const mine = threads.filter((t) => t.createdBy === users[c]);
      const roll = random();
      if (roll < 0.45 || doc.length === 0) {
        stats.edits++;
        if (doc.length > 0 && random() < 0.4) {
          const at = int(doc.length);
          doc.delete(at, Math.min(1 + int(4), doc.length - at));
        } else {
          doc.insert(int(doc.length + 1), random() < 0.1 ? '👋' : 'abcdefgh'.slice(0, 1 + int(3)));
        }
      } else if (roll < 0.6) {
        stats.comments++;
        const at = int(doc.length);
        track(doc.comment(at, Math.min(int(6), doc.length - at), `on ${at}`), `create by ${c}`);
      } else if (threads.length > 0 && roll < 0.72) {
        stats.comments++;
        track(doc.comments.reply(threads[int(threads.length)]!.threadId, `reply ${step}`), `reply by ${c}`);
      } else if (threads.length > 0 && roll < 0.82) {
        stats.comments++;
        const thread = threads[int(threads.length)]!;
        const kind = thread.resolved ? 'reopen' : 'resolve';
        track(doc.comments[kind](thread.threadId), `${kind} by ${c}`);
      } else if (mine.length > 0 && roll < 0.88) {
        stats.comments++;
        const thread = mine[int(mine.length)]!;
        track(doc.comments.edit(thread.threadId, thread.messages[0]!.messageId, `edited ${step}`), `edit by ${c}`);
      } else if (mine.length > 0 && roll < 0.92) {
        stats.comments++;
        track(doc.comments.delete(mine[int(mine.length)]!.threadId), `delete by ${c}`);
      } else if (roll < 0.95) {
        stats.kills++;
        sockets
          .filter((s) => s.readyState === 1)
          .at(-1 - int(2))
          ?.kill();
      }
      await wait(int(12));
      check(step);
    }

    // Quiet: every command answered, every edit acknowledged, everyone at the head with every event.
    await Promise.all(commands);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const truth = readCommentTruth(server.dataDir, DOC);
      const want = threadsJson(truth.final.comments.threads.values());
      const settled = docs.every(
        (d) =>
          d.pendingCount === 0 &&
          d.version === truth.final.version &&
          d.comments.isLoaded &&
          threadsJson(d.comments.confirmed.threads.values()) === want,
      );
      if (settled) {
        for (const d of docs) assert.equal(d.text, truth.final.doc.toString(), `the texts converge ${where}`);
        break;
      }
      assert.ok(Date.now() < deadline, `the clients did not settle on the log's final threads ${where}`);
      await wait(20);
    }
    assert.deepEqual(unexpected, [], `no command refused for anything but a race ${where}`);
    assert.ok(stats.checks > STEPS, `checks ran ${JSON.stringify(stats)}`);
    console.log(
      `    seed ${seed}: ${JSON.stringify(stats)}, ${readCommentTruth(server.dataDir, DOC).final.comments.threads.size} threads at the end`,
    );
    await Promise.all(clients.map((client) => client.close()));
  });
});
