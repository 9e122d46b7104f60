/**
 * `npm run chaos -- --minutes N --seed S`: the chaos run (docs/testing.md, "The chaos run"). Starts the system on
 * a three-broker cluster, lets simulated users type through two command-service instances while the seeded
 * schedule injects overlapping faults, lets everything settle, then checks the log, the clients, the read models
 * and the snapshots (acked-ops.ts, final-state.ts) and prints a verdict. Exit 0: every check held; 1: a
 * violation (the report shows each with its history); 2: bad arguments or a run that could not start.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from '@collab/core';
import { AckRecorder } from './ack-recorder.js';
import { checkAckedOps, type Violation } from './acked-ops.js';
import { FaultInjector } from './faults.js';
import { checkReadSide, readWholeLog } from './final-state.js';
import { Isolation } from './isolation.js';
import { formatRecovery, recoveryFigures, violationHistory } from './report.js';
import { describeFault, planFaults } from './schedule.js';
import { JWT_SECRET, startSystem, type System } from './system.js';
import { Users } from './users.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
  minutes: number;
  seed: number;
  users: number;
  docs: number;
  docsPerUser: number;
  meanGapSeconds: number;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '5' },
      seed: { type: 'string' },
      users: { type: 'string', default: '12' },
      docs: { type: 'string', default: '8' },
      'docs-per-user': { type: 'string', default: '3' },
      'mean-gap-seconds': { type: 'string', default: '8' },
    },
    strict: true,
  });
  // Different each day unless given (CI prints it, so a failing day is replayed with --seed).
  const today = Number(new Date().toISOString().slice(0, 10).replaceAll('-', ''));
  const number = (name: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number in [${min}, ${max}], got ${value}`);
    return n;
  };
  return {
    minutes: number('minutes', values.minutes, 1, 24 * 60),
    seed: values.seed === undefined ? today : number('seed', values.seed, 0, 2 ** 32 - 1),
    users: number('users', values.users, 2, 500),
    docs: number('docs', values.docs, 1, 1_000),
    docsPerUser: number('docs-per-user', values['docs-per-user'], 1, 50),
    meanGapSeconds: number('mean-gap-seconds', values['mean-gap-seconds'], 1, 600),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `${(err as Error).message}\nusage: npm run chaos -- [--minutes N] [--seed S] [--users N] [--docs N]\n`,
    );
    return 2;
  }
  const { minutes, seed } = options;
  const runId = `chaos-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const reportDir = join(REPO, 'reports', 'chaos', runId);
  mkdirSync(reportDir, { recursive: true });
  say(
    `chaos run ${runId}: ${minutes} min, seed ${seed} (replay: npm run chaos -- --minutes ${minutes} --seed ${seed})`,
  );
  say(`service logs and the report: ${reportDir}`);

  const isolation = await Isolation.create(runId);
  let system: System | undefined;
  let users: Users | undefined;
  const stopEverything = async () => {
    await users?.stopTyping();
    users?.close();
    await system?.stop().catch((err: Error) => say(`stopping the system: ${err.message}`));
    await isolation.cleanup().catch((err: Error) => say(`undoing the faults: ${err.message}`));
  };
  const onSignal = () => void stopEverything().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A bug of the run itself (or of the SDK its users run) must not leave containers, partitions and slow links
  // behind: undo everything, then fail the run as unable to judge (2).
  const onCrash = (err: unknown) => {
    process.stderr.write(`chaos run crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopEverything().finally(() => process.exit(2));
  };
  process.once('uncaughtException', onCrash);
  process.once('unhandledRejection', onCrash);
  try {
    system = await startSystem({ repo: REPO, runId, logDir: reportDir, isolation, say });
    const random = seededRandom(seed);
    const recorder = new AckRecorder();
    const docIds = Array.from({ length: options.docs }, (_, i) => `chaos-${seed}-${i}`);
    users = new Users({
      users: options.users,
      docIds,
      docsPerUser: options.docsPerUser,
      wsUrls: system.wsUrls,
      secret: JWT_SECRET,
      random,
      recorder,
      say,
    });
    await users.connect();
    const runMs = minutes * 60_000;
    const plan = planFaults(seededRandom(seed ^ 0x5eed), {
      runMs,
      warmupMs: Math.min(20_000, runMs / 10),
      cooldownMs: Math.max(30_000, runMs / 5),
      meanGapMs: options.meanGapSeconds * 1000,
      brokers: system.cluster.nodes.length,
    });
    say(`${options.users} users typing into ${options.docs} documents; ${plan.length} faults planned:`);
    for (const f of plan)
      say(`  +${String(Math.round(f.atMs / 1000)).padStart(4)} s ${describeFault(f)} for ${f.durationMs} ms`);

    const t0 = Date.now();
    users.startTyping(seed);
    const injector = new FaultInjector(system, isolation, say);
    await Promise.all([injector.run(plan, t0), sleep(runMs)]);
    await users.stopTyping();
    say(`typing stopped after ${Math.round((Date.now() - t0) / 1000)} s; waiting for every client to settle`);

    const violations: Violation[] = [];
    for (const line of users.stuck())
      violations.push({ docId: '(user)', versions: [], message: `a user never got going again: ${line}` });
    const settled = await settle(users, recorder, 180_000);
    if (!settled) {
      violations.push({
        docId: '(all)',
        versions: [],
        message:
          `clients still pending or apart 180 s after the end: ${users.pending()} edits pending\n` +
          users
            .describeUnsettled()
            .map((line) => `      ${line}`)
            .join('\n'),
      });
    }
    const log = await readWholeLog(system);
    const acked = checkAckedOps(log, recorder.acks, recorder.finals(), { clients: users.clientIds });
    violations.push(...acked.details);
    const readSide = await checkReadSide(system, log);
    violations.push(...readSide.violations);

    const crashes = [...system.services].map(([name, s]) => `${name} ${s.crashes}`).join(', ');
    const lost = acked.details.filter((v) => /is not in the log/.test(v.message)).length;
    say('');
    say(
      `${acked.opsInLog} ops in the log over ${log.size} documents; ${acked.acksChecked} acks checked; ` +
        `${readSide.snapshotsChecked} snapshots checked`,
    );
    say(`users: ${users.offlinePeriods} offline periods, ${users.reloads} reloads, ${users.clientIds.size} clients`);
    say(
      `faults injected: ${injector.records.length} (${injector.records.filter((r) => r.error).length} failed to inject); crashes restarted: ${crashes}`,
    );
    say(
      `ops refused (given back to their users, retriable): ${recorder.unsent}; server errors seen by clients: ${recorder.errors.length}; acked ops lost: ${lost}`,
    );
    for (const line of formatRecovery(recoveryFigures(injector.records, recorder.acks))) say(line);
    if (recorder.errors.length > 0) say(`client errors (first 5):\n  ${recorder.errors.slice(0, 5).join('\n  ')}`);
    for (const v of violations.slice(0, 20))
      for (const line of violationHistory(v, log, (at) => injector.activeAt(at))) say(`  ${line}`);
    writeFileSync(
      join(reportDir, 'report.json'),
      JSON.stringify(
        {
          seed,
          minutes,
          options,
          opsInLog: acked.opsInLog,
          acksChecked: acked.acksChecked,
          violations: violations.map((v) => v.message),
          faults: injector.records.map((r) => ({
            ...r.fault,
            detail: r.detail,
            startedAt: r.startedAt,
            endedAt: r.endedAt,
            recoveredAt: r.recoveredAt,
            error: r.error,
          })),
          recovery: recoveryFigures(injector.records, recorder.acks),
          refused: recorder.unsent,
          lost,
        },
        null,
        2,
      ),
    );
    say(
      violations.length === 0
        ? `VERDICT: PASS (seed ${seed})`
        : `VERDICT: FAIL, ${violations.length} violation(s) (seed ${seed})`,
    );
    return violations.length === 0 ? 0 : 1;
  } finally {
    await stopEverything();
  }
}

/** Every client idle (nothing pending) and at the same version as every other client of each document. */
async function settle(users: Users, recorder: AckRecorder, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (users.pending() === 0) {
      const byDoc = new Map<string, Set<number>>();
      for (const f of recorder.finals()) byDoc.set(f.docId, (byDoc.get(f.docId) ?? new Set()).add(f.version));
      if ([...byDoc.values()].every((v) => v.size === 1)) return true;
    }
    await sleep(250);
  }
  return false;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
