/**
 * Spreading the load bench's users over processes: merged recorders give the percentiles of all the samples
 * together (not averages of percentiles), and documents go to processes whole, the users balanced.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assignDocuments, assignUserProcesses, parseLoadOptions, remoteProblems } from '../src/args.js';
import { Recorder } from '../src/recorder.js';
import { Histogram, rng } from '../src/stats.js';
import { UserProcesses, type UserProcessArgs } from '../src/user-process.js';

const STUCK = fileURLToPath(new URL('./support/stuck-user-child.ts', import.meta.url));

describe('bench:load user processes', () => {
  it('percentiles of merged recorders equal those of one recorder fed every sample', () => {
    const random = rng(7);
    const parts = [new Recorder(), new Recorder(), new Recorder()];
    const all = new Recorder();
    // Very different distributions per process, so averaging percentiles would be visibly wrong.
    const scales = [5, 50, 2000];
    parts.forEach((part, p) => {
      for (let i = 0; i < 1000 * (p + 1); i++) {
        const ms = random() * scales[p]!;
        for (const r of [part, all]) {
          r.ack.record(ms);
          r.presence.record(ms / 2);
          (r.timeline[i % 4] ??= new Histogram()).record(ms);
          r.keystroke();
        }
      }
      part.error(`E${p}`);
      all.error(`E${p}`);
      part.error('ERR_SHARED');
      all.error('ERR_SHARED');
      part.reconnects += p;
      all.reconnects += p;
    });
    const merged = new Recorder();
    // Through JSON, as across the IPC channel.
    for (const part of parts) merged.merge(JSON.parse(JSON.stringify(part.data())) as ReturnType<Recorder['data']>);
    for (const p of [1, 50, 90, 95, 99, 99.9, 100]) {
      assert.equal(merged.ack.percentile(p), all.ack.percentile(p), `ack p${p}`);
      assert.equal(merged.presence.percentile(p), all.presence.percentile(p), `presence p${p}`);
    }
    assert.deepEqual(merged.ack.summary(), all.ack.summary());
    assert.equal(merged.ack.count, 6000);
    assert.equal(merged.keystrokes, all.keystrokes);
    assert.equal(merged.reconnects, 3);
    assert.deepEqual(Object.fromEntries(merged.errors), { E0: 1, E1: 1, E2: 1, ERR_SHARED: 3 });
    assert.equal(merged.timeline.length, 4);
    merged.timeline.forEach((h, second) => assert.deepEqual(h.summary(), all.timeline[second]!.summary()));
    // What averaging the processes' p99s would have said instead: far from the truth.
    const averaged = parts.reduce((sum, r) => sum + r.ack.percentile(99)!, 0) / parts.length;
    assert.ok(Math.abs(averaged - all.ack.percentile(99)!) > 100);
  });

  it('keeps every document whole in one process and balances the users', () => {
    const options = parseLoadOptions(['--users', '200', '--docs', '40', '--hot-docs', '2', '--hot-users', '40']);
    const docIds = Array.from({ length: options.docs }, (_, i) => `d${i}`);
    const userDocs = assignDocuments(options, docIds);
    for (const processes of [1, 2, 3, 7]) {
      const shares = assignUserProcesses(userDocs, docIds, processes);
      assert.equal(shares.length, processes);
      // Every user once, every document once, and a document's users all where the document is.
      assert.deepEqual(
        shares.flatMap((s) => s.users).sort((a, b) => a - b),
        [...userDocs.keys()],
      );
      assert.deepEqual(shares.flatMap((s) => s.docIds).sort(), [...docIds].sort());
      for (const share of shares) {
        for (const user of share.users) assert.ok(share.docIds.includes(userDocs[user]!));
      }
      const sizes = shares.map((s) => s.users.length);
      // Within one document's users of each other (a hot document has 20 here), and close for these numbers.
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 20, `${processes}: ${sizes.join(' ')}`);
      assert.ok(Math.max(...sizes) <= Math.ceil(200 / processes) + 5, `${processes}: ${sizes.join(' ')}`);
    }
  });

  it('hot documents spread over the processes, and never more processes than documents', () => {
    const userDocs = [...Array<string>(30).fill('hot-a'), ...Array<string>(30).fill('hot-b'), 'c', 'd', 'e', 'f'];
    const docIds = ['hot-a', 'hot-b', 'c', 'd', 'e', 'f', 'empty'];
    const shares = assignUserProcesses(userDocs, docIds, 2);
    assert.deepEqual(
      shares.map((s) => s.users.length),
      [32, 32],
    );
    assert.notEqual(shares[0]!.docIds.includes('hot-a'), shares[1]!.docIds.includes('hot-a'));
    assert.notEqual(shares[0]!.docIds.includes('hot-a'), shares[0]!.docIds.includes('hot-b'));
    assert.equal(assignUserProcesses(['x', 'y'], ['x', 'y'], 5).length, 2);
  });

  describe('a user process that hangs', () => {
    const share = (name: string): UserProcessArgs => ({
      name,
      endpoint: { kind: 'sharedb', url: 'ws://127.0.0.1:9' },
      clients: 'sdk',
      users: [],
      docIds: [],
      rate: 5,
      seed: 1,
      drops: [],
    });
    let pids: string;
    beforeEach(() => (pids = mkdtempSync(join(tmpdir(), 'stuck-'))));
    afterEach(() => rmSync(pids, { recursive: true, force: true }));

    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    async function assertAllKilled(): Promise<void> {
      // A child killed before it wrote its pid (a slow start under load) is gone too; at least one got that far.
      const started = readdirSync(pids).map(Number);
      assert.ok(started.length > 0, 'a child ran');
      const deadline = Date.now() + 10_000;
      while (started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(started.filter(alive), [], 'every child is killed');
    }

    it('that never connects fails the start with its name after the deadline, and every child is killed', async () => {
      await assert.rejects(
        UserProcesses.start([share('users-1'), share('users-2')], {
          module: STUCK,
          env: { STUCK_AT: 'connect', STUCK_PIDS_DIR: pids },
          connectMs: 5_000,
        }),
        /user process users-1 did not connect its users within 5000 ms/,
      );
      await assertAllKilled();
    });

    it('that never sends its result fails the run after the deadline, and every child is killed', async () => {
      const children = await UserProcesses.start([share('users-1'), share('users-2')], {
        module: STUCK,
        env: { STUCK_AT: 'result', STUCK_PIDS_DIR: pids },
        connectMs: 20_000,
        resultMs: 1_000,
      });
      children.go();
      children.stop();
      await assert.rejects(children.results(), /user process users-1 did not send its result within 1000 ms/);
      await assertAllKilled();
    });
  });

  it("--url: a ws:// URL and the server's secret, every problem at once", () => {
    const secret = 'x'.repeat(32);
    assert.deepEqual(remoteProblems('ws://10.0.0.2:8080/v1/ws', secret, { embedded: false }), []);
    assert.deepEqual(remoteProblems('wss://collab.example/v1/ws', secret, { embedded: false }), []);
    const problems = remoteProblems('http://10.0.0.2:8080', 'short', { embedded: true });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /ws:\/\/ or wss:\/\//);
    assert.match(problems[1]!, /BENCH_JWT_SECRET/);
    assert.match(problems[2]!, /--embedded/);
    assert.match(remoteProblems('not a url', undefined, { embedded: false })[0]!, /not a URL/);
    assert.deepEqual(
      parseLoadOptions(['--users', '10', '--docs', '5', '--hot-docs', '1', '--hot-users', '2']).url,
      undefined,
    );
  });
});
