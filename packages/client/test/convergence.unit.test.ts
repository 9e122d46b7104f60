/**
 * Convergence under a hostile network, end to end through CollabClient: several clients, two documents on each
 * connection, the simulated server (the real sequencer decision from @collab/core), random delays that reorder
 * messages across connections, dropped connections (reconnect, catch-up, re-send with the same seq), refused
 * connections, duplicated frames, retriable refusals and "unknown outcome" commits.
 *
 * The independent model: every insert is a unique marker and every delete removes one whole marker, so the final
 * text must be a sequence of markers in which each inserted-and-not-deleted marker appears exactly once and each
 * deleted one not at all. Edits a client had to give up (its 'unsent' work after a forced reload) are the only
 * ones allowed to be missing — and they too may appear at most once.
 *
 * Seeded: FUZZ_SEED=<n> replays a failing run; the seed is in every failure message.
 */
import assert from 'node:assert/strict';
import type { ClientDocument } from '../src/index.js';
import { CollabClient } from '../src/index.js';
import type { SimServerOptions } from '../src/testing/index.js';
import { DEFAULT_LIMITS, FakeNetwork, ManualScheduler, Rng, SimServer } from '../src/testing/index.js';
import { fuzzSeed } from './support/fuzz-seed.js';
import { serverHash } from './support/server-hash.js';

interface Scenario {
  clients: number;
  steps: number;
  docs: string[];
  dropRate: number;
  pasteRate: number;
  server: Partial<SimServerOptions>;
  net: { duplicate: number; refuse: number; maxDelayMs: number };
  /** Whether a forced reload (and so given-up work) may happen. */
  reloadsAllowed: boolean;
}

interface Stats {
  hashChecks: number;
  duplicates: number;
  reconnects: number;
  unsent: number;
  commits: number;
  pastes: number;
}

const MARKER = /⟨[^⟨⟩]*⟩/g;
/** The server's maxOpInsertLength in the paste scenario, and the length of each marker of a paste. */
const PASTE_PART = 16;

async function run(seed: number, scenario: Scenario): Promise<Stats> {
  const rng = new Rng(seed);
  const scheduler = new ManualScheduler();
  const server = new SimServer(rng, () => scheduler.now(), { stateHash: serverHash, ...scenario.server });
  const net = new FakeNetwork(scheduler, rng, server, scenario.net);
  const stats: Stats = { hashChecks: 0, duplicates: 0, reconnects: 0, unsent: 0, commits: 0, pastes: 0 };

  // The model: for each marker, was it inserted / deleted, and is that certain (not given up in a reload)?
  const inserted = new Map<string, { certain: boolean }>();
  const deleted = new Map<string, { certain: boolean }>();
  const clients: CollabClient[] = [];
  const docs: ClientDocument[][] = [];
  /** Per client and document: the model entries of edits not yet acknowledged. */
  const unconfirmed: Array<Array<Array<{ certain: boolean }>>> = [];
  const mismatches: string[] = [];

  for (let c = 0; c < scenario.clients; c++) {
    const client = new CollabClient({
      url: `ws://sim/${c}`,
      token: 'good',
      WebSocket: net.WebSocket,
      clientId: `client-${c}`,
      scheduler,
      random: () => rng.next(),
      reconnect: { initialMs: 20, maxMs: 1500, factor: 2, jitter: 1 },
    });
    client.events.on('state', (e) => {
      if (e.state === 'reconnecting') stats.reconnects++;
    });
    clients.push(client);
  }
  const opening = clients.map((client) => Promise.all(scenario.docs.map((id) => client.openDocument(id))));
  await Promise.resolve(); // the clients connect in a microtask
  scheduler.advance(500);
  for (const [c, p] of opening.entries()) {
    docs[c] = await p;
    unconfirmed[c] = docs[c]!.map(() => []);
    docs[c]!.forEach((doc, d) => {
      doc.on('pending', ({ count }) => {
        if (count === 0) unconfirmed[c]![d]!.length = 0;
      });
      doc.on('unsent', () => {
        stats.unsent++;
        for (const entry of unconfirmed[c]![d]!) entry.certain = false;
      });
      doc.on('hash', ({ ok, version }) => {
        // Recorded, not asserted here: a throw inside a listener would surface outside the test.
        if (!ok) mismatches.push(`client ${c} ${doc.id}@${version}`);
        stats.hashChecks++;
      });
    });
  }

  let counter = 0;
  const edit = (c: number, d: number): void => {
    const doc = docs[c]![d]!;
    if (doc.isBlocked) return;
    const text = doc.text;
    const markers = [...text.matchAll(MARKER)];
    if (markers.length > 0 && rng.chance(0.3)) {
      const m = rng.pick(markers);
      const entry = { certain: true };
      doc.delete(m.index, m[0].length);
      if (!deleted.has(m[0])) deleted.set(m[0], entry);
      else deleted.get(m[0])!.certain ||= true;
      unconfirmed[c]![d]!.push(deleted.get(m[0])!);
      return;
    }
    const id = `${c}.${++counter}`;
    // A paste is many markers of exactly PASTE_PART code points each, so the SDK cuts it between markers: a
    // concurrent insert may legitimately land between two parts (the server puts the incoming op first), and the
    // model must not mistake that for a split marker.
    const parts = rng.chance(scenario.pasteRate)
      ? Array.from({ length: 3 + rng.int(8) }, (_, i) => {
          const head = `⟨${id}.${i}`;
          return `${head}${'x'.repeat(PASTE_PART - [...head].length - 2)}😀⟩`;
        })
      : [`⟨${id}${rng.chance(0.5) ? '😀' : ''}⟩`];
    if (parts.length > 1) stats.pastes++;
    // Insert only between markers, so a marker is never split and the model stays exact.
    const boundaries = [0, ...markers.map((m) => m.index + m[0].length)];
    for (const marker of parts) {
      const entry = { certain: true };
      inserted.set(marker, entry);
      unconfirmed[c]![d]!.push(entry);
    }
    doc.insert(rng.pick(boundaries), parts.join(''));
  };

  for (let step = 0; step < scenario.steps; step++) {
    const r = rng.next();
    if (r < 0.45) edit(rng.int(scenario.clients), rng.int(scenario.docs.length));
    else if (r < 0.45 + scenario.dropRate) net.dropRandom();
    else for (let i = rng.int(4); i >= 0; i--) scheduler.runNext();
  }

  // Quiesce: a calm network, then run until every client holds the server's head with nothing pending.
  server.options.faults = { refuse: 0, unknownOutcome: 0 };
  Object.assign(net.options, { duplicate: 0, refuse: 0 });
  const settled = (): boolean =>
    docs.every((row) =>
      row.every(
        (doc) => doc.pendingCount === 0 && doc.version === server.version(doc.id) && doc.text === server.text(doc.id),
      ),
    );
  const done = scheduler.runUntil(settled, 2_000_000);
  const lagging = docs
    .flat()
    .filter((doc) => doc.version !== server.version(doc.id) || doc.pendingCount > 0)
    .map((doc) => `${doc.id}@${doc.version}/${server.version(doc.id)} pending ${doc.pendingCount}`);
  assert.ok(done, `did not settle: ${lagging.join(', ')}`);
  assert.deepEqual(mismatches, [], 'state hash mismatches: a client diverged');

  for (const docId of scenario.docs) {
    const text = server.text(docId);
    const found = [...text.matchAll(MARKER)].map((m) => m[0]);
    const stray = text.replace(MARKER, '|');
    assert.ok(found.join('') === text, `${docId}: the text is not a sequence of whole markers: ${stray.slice(0, 300)}`);
    const counts = new Map<string, number>();
    for (const m of found) counts.set(m, (counts.get(m) ?? 0) + 1);
    for (const [marker, n] of counts) {
      assert.ok(inserted.has(marker), `${docId}: ${marker} was never inserted`);
      assert.equal(n, 1, `${docId}: ${marker} appears ${n} times (applied twice)`);
    }
  }
  for (const [marker, entry] of inserted) {
    const where = scenario.docs.filter((id) => server.text(id).includes(marker));
    assert.ok(where.length <= 1, `${marker} is in two documents`);
    const gone = deleted.get(marker);
    const present = where.length === 1;
    if (gone?.certain) assert.equal(present, false, `${marker} was deleted but is still there`);
    else if (entry.certain && gone === undefined) assert.equal(present, true, `${marker} was lost`);
  }
  if (!scenario.reloadsAllowed) assert.equal(stats.unsent, 0, 'work was given up without a forced reload');

  for (const client of clients) client.close();
  stats.duplicates = server.duplicates;
  stats.commits = server.commits;
  return stats;
}

async function runSeeds(scenario: Scenario, seeds: number[]): Promise<Stats[]> {
  const results: Stats[] = [];
  for (const seed of seeds) {
    try {
      results.push(await run(seed, scenario));
    } catch (err) {
      // A new error, so that the seed is in the first line whatever the reporter prints.
      throw new Error(`[FUZZ_SEED=${seed}] ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return results;
}

const seedsFor = (n: number): number[] => {
  if (process.env['FUZZ_SEED'] !== undefined) return [fuzzSeed()];
  const first = fuzzSeed();
  return Array.from({ length: n }, (_, i) => first + i);
};

const sum = (stats: Stats[], key: keyof Stats): number => stats.reduce((n, s) => n + s[key], 0);

describe('convergence through CollabClient over a hostile network (seeded)', () => {
  it('every client ends with the server text; no edit lost, none applied twice', async function () {
    this.timeout(120_000);
    const stats = await runSeeds(
      {
        clients: 4,
        steps: 4000,
        docs: ['alpha', 'beta'],
        dropRate: 0.01,
        pasteRate: 0.03,
        server: {
          window: 10_000,
          catchupLimit: 10_000,
          hashEvery: 7,
          limits: { ...DEFAULT_LIMITS, maxOpInsertLength: PASTE_PART },
          faults: { refuse: 0.05, unknownOutcome: 0.05 },
        },
        net: { duplicate: 0.05, refuse: 0.1, maxDelayMs: 60 },
        reloadsAllowed: false,
      },
      seedsFor(4),
    );
    // The run proves something only if the hard paths ran.
    assert.ok(sum(stats, 'reconnects') > 0, 'no reconnect happened');
    assert.ok(sum(stats, 'duplicates') > 0, 'the server never deduplicated a resubmission');
    assert.ok(sum(stats, 'hashChecks') > 0, 'no state hash was checked');
    assert.ok(sum(stats, 'pastes') > 0, 'no large paste');
    assert.ok(sum(stats, 'commits') > 1000, 'too few commits to mean anything');
  });

  it('clients too far behind reload (resync); only work they report as unsent may be missing', async function () {
    this.timeout(120_000);
    const stats = await runSeeds(
      {
        clients: 3,
        steps: 3000,
        docs: ['gamma'],
        dropRate: 0.03,
        pasteRate: 0,
        server: { window: 10_000, catchupLimit: 4, hashEvery: 5, faults: { refuse: 0.03, unknownOutcome: 0.03 } },
        net: { duplicate: 0.03, refuse: 0.2, maxDelayMs: 80 },
        reloadsAllowed: true,
      },
      seedsFor(3),
    );
    assert.ok(sum(stats, 'unsent') > 0, 'no client was ever forced to reload: the scenario tests nothing');
  });
});
