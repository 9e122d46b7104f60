/**
 * Simulated users: SDK clients (the real @collab/client over real WebSockets) typing seeded edits into a few of
 * the run's documents each. Every (re)connection goes to the next command-service instance in turn, as behind a
 * round-robin balancer, so when one instance is down or cut off its users land on the other. Some users go
 * offline for a while (their sockets cut, connections refused, typing on) and come back; some reload (the client
 * closed once its edits are acked, a new one opened with a new client id). Every user's acks and final texts go
 * to the recorder the checker judges.
 */
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import { seededRandom } from '@collab/core';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import type { AckRecorder } from './ack-recorder.js';

/** Edits a document may have unacknowledged before its user waits (offline users hit it and pause typing). */
const MAX_PENDING = 20;
/** Where an offline user's connection attempts go: nothing listens on port 1, so they are refused at once. */
const NOWHERE = 'ws://127.0.0.1:1/v1/ws';

export interface UsersOptions {
  users: number;
  docIds: readonly string[];
  docsPerUser: number;
  wsUrls: readonly string[];
  secret: string;
  random: () => number;
  recorder: AckRecorder;
  say: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A read/write token for every document, HS256 as the command-services are configured (docs/security.md). Signed
 * here with jose rather than with the command-service's signDevToken: the command-service's tests use this
 * package's checker, and the workspaces must not depend on each other in a cycle.
 */
function userToken(secret: string, userId: string): Promise<string> {
  return new SignJWT({ docs: { '*': ['read', 'write'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(new TextEncoder().encode(secret));
}

class SimulatedUser {
  client!: CollabClient;
  docs: ClientDocument[] = [];
  offline = false;
  /** Where its current (or last) connection went, for the report of a user that did not settle. */
  lastUrl = '';
  /** What it is waiting for, while a reload opens its documents (reported if the run ends with it waiting). */
  busy: string | undefined;
  private connections = 0;
  private readonly sockets = new Set<WebSocket>();

  constructor(
    readonly userId: string,
    private readonly index: number,
    private readonly docIds: readonly string[],
    private readonly options: UsersOptions,
  ) {}

  /** The WebSocket class this user's client constructs: the next instance in turn, or nowhere while offline. */
  private socketClass(): new (url: string) => WebSocket {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below is constructed by the SDK
    const user = this;
    return class UserSocket extends WebSocket {
      constructor(_url: string) {
        const urls = user.options.wsUrls;
        const url = user.offline ? NOWHERE : urls[(user.index + user.connections++) % urls.length]!;
        super(url);
        user.lastUrl = url;
        user.sockets.add(this);
        this.once('close', () => user.sockets.delete(this));
      }
    };
  }

  async open(): Promise<void> {
    this.client = new CollabClient({
      url: this.options.wsUrls[0]!,
      token: () => userToken(this.options.secret, this.userId),
      WebSocket: this.socketClass() as never,
      // Quick retries: a dead instance is left for the other one within a second or two.
      reconnect: { initialMs: 200, maxMs: 2_000 },
      random: this.options.random,
    });
    this.docs = [];
    for (const docId of this.docIds) {
      const doc = await this.client.openDocument(docId);
      this.options.recorder.watch(this.client, doc);
      this.docs.push(doc);
    }
  }

  typeOnce(random: () => number): void {
    const doc = this.docs[Math.floor(random() * this.docs.length)];
    if (doc === undefined || doc.isBlocked || doc.pendingCount >= MAX_PENDING) return;
    try {
      if (doc.length > 40 && random() < 0.35) {
        doc.delete(Math.floor(random() * (doc.length - 3)), 1 + Math.floor(random() * 3));
      } else {
        const text = random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(random() * 26));
        doc.insert(Math.floor(random() * (doc.length + 1)), text);
      }
    } catch (err) {
      // The run is closing the client under the typist: nothing to type into any more.
      if ((err as { code?: string }).code !== 'ERR_CLOSED') throw err;
    }
  }

  goOffline(): void {
    this.offline = true;
    for (const socket of this.sockets) socket.terminate();
  }

  goOnline(): void {
    this.offline = false;
  }

  get pending(): number {
    return this.docs.reduce((n, d) => n + d.pendingCount, 0);
  }

  /** Resolves true once nothing typed is waiting for its ack (told by the documents' 'pending' events), false after `ms`. */
  private settled(ms: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const offs = this.docs.map((doc) =>
        doc.on('pending', () => {
          if (this.pending === 0) done(true);
        }),
      );
      const timer = setTimeout(() => done(false), ms);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        for (const off of offs) off();
        resolve(ok);
      };
    });
  }

  /** A page reload: once everything typed is acked (bounded wait), a new client with a new id opens the same docs. */
  async reload(): Promise<boolean> {
    if (!(await this.settled(20_000))) return false;
    this.options.recorder.forget(this.client);
    this.client.close();
    this.busy = `reloading since ${new Date().toISOString().slice(11, 19)} (its documents' opens unanswered)`;
    await this.open();
    this.busy = undefined;
    return true;
  }
}

export class Users {
  readonly all: SimulatedUser[] = [];
  /** Every client id any user had (the checker's "ops nobody sent"). */
  readonly clientIds = new Set<string>();
  private typing = false;
  private loops: Promise<void>[] = [];
  offlinePeriods = 0;
  reloads = 0;

  constructor(private readonly options: UsersOptions) {}

  async connect(): Promise<void> {
    const { users, docIds, docsPerUser, random } = this.options;
    for (let i = 0; i < users; i++) {
      const mine = new Set<string>();
      while (mine.size < Math.min(docsPerUser, docIds.length)) mine.add(docIds[Math.floor(random() * docIds.length)]!);
      const user = new SimulatedUser(`user-${i}`, i, [...mine], this.options);
      await user.open();
      this.clientIds.add(user.client.clientId);
      this.all.push(user);
    }
  }

  /** Each user types every 150–450 ms; now and then goes offline for 5–25 s or reloads. Seeded per user. */
  startTyping(seed: number): void {
    this.typing = true;
    this.loops = this.all.map(async (user, i) => {
      // A stream per user: the loops interleave by time, so one shared stream would not replay.
      const random = seededRandom(seed + i * 7919);
      let nextChange = Date.now() + 15_000 + random() * 30_000;
      while (this.typing) {
        user.typeOnce(random);
        await sleep(150 + random() * 300);
        if (Date.now() < nextChange || !this.typing) continue;
        nextChange = Date.now() + 15_000 + random() * 30_000;
        const r = random();
        if (r < 0.4) {
          this.offlinePeriods++;
          user.goOffline();
          const until = Date.now() + 5_000 + random() * 20_000;
          while (this.typing && Date.now() < until) {
            user.typeOnce(random);
            await sleep(150 + random() * 300);
          }
          user.goOnline();
        } else if (r < 0.55) {
          if (await user.reload()) {
            this.reloads++;
            this.clientIds.add(user.client.clientId);
          }
        }
      }
    });
  }

  /**
   * Stops every user, waiting at most a minute for their loops: a user whose reload is still waiting for its
   * documents to open is left as it is and named in `stuck` (a liveness failure the run reports).
   */
  async stopTyping(): Promise<void> {
    this.typing = false;
    for (const user of this.all) user.goOnline();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.loops),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 60_000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Users still waiting for something after stopTyping (see there). */
  stuck(): string[] {
    return this.all
      .filter((u) => u.busy !== undefined)
      .map((u) => `${u.userId} (client ${u.client.clientId}): ${u.busy}`);
  }

  pending(): number {
    return this.all.reduce((n, u) => n + u.pending, 0);
  }

  /** The users with edits still pending: connection state, where, and each document's version and pending. */
  describeUnsettled(): string[] {
    return this.all
      .filter((u) => u.pending > 0)
      .map(
        (u) =>
          `${u.userId} (client ${u.client.clientId}, ${u.client.state}, last connection to ${u.lastUrl}): ` +
          u.docs.map((d) => `${d.id} v${d.version} pending ${d.pendingCount}`).join(', '),
      );
  }

  close(): void {
    for (const user of this.all) user.client.close();
  }
}
