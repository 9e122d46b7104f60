/** The options of `npm run bench:load`, parsed once (node:util parseArgs), every problem reported at once. */
import { parseArgs } from 'node:util';

export interface LoadOptions {
  users: number;
  docs: number;
  hotDocs: number;
  hotUsers: number;
  /** Characters per second of a typist while in a burst (pauses between bursts lower the average). */
  rate: number;
  seconds: number;
  embedded: boolean;
  /** Partitions of the bench's fresh ops topic (and of the embedded log). */
  partitions: number;
  /** Where the servers run: processes of their own (as in production), or the bench process. */
  servers: 'processes' | 'in-process';
  /** Child processes the simulated users are spread over (whole documents each; at most one per document). */
  userProcesses: number;
  /**
   * The systems measured after ours in the same run, one after the other (never two at once): our embedded mode,
   * ShareDB in memory, ShareDB on PostgreSQL. The report gives each one's figures and ours relative to them.
   */
  peers: Peer[];
  /**
   * Command-service instances (distributed mode): with more than one, user i connects to instance i mod N, so
   * every document is edited through every instance and submissions to a document owned elsewhere are forwarded.
   */
  instances: number;
  /**
   * How the simulated users talk: our SDK (realistic, costly), or raw frames with an ot.js-style buffer. Light
   * users send no cursors, and neither do the peers' users in a light run (same workload for every system).
   */
  clients: 'sdk' | 'light';
  /** Seconds the users stay connected without typing before "go": the stack's idle CPU with them connected. */
  idleSeconds: number;
  /** A timed document load every this many ms from a third of the run on (0: none, for clean CPU per op). */
  loadEveryMs: number;
  /** Sockets dropped (and reconnected by the client) during the run. */
  drops: number;
  seed: number;
  out: string;
  /** Skip our system (measure only the peer). */
  peerOnly: boolean;
  /**
   * A command-service already running elsewhere (`ws://host:port/v1/ws`): the bench starts no servers of ours and
   * signs its users' tokens with BENCH_JWT_SECRET (that server's COLLAB_JWT_SECRET). For running the users on
   * another machine than the servers.
   */
  url: string | undefined;
}

/**
 * Two user processes by default: on this 2-core box one process of 200 users lagged ~210 ms (event loop p99),
 * two halve each loop's work while leaving the servers most of the CPU; more only pays on a bigger machine.
 */
export const DEFAULT_USER_PROCESSES = 2;

export const PEERS = ['embedded', 'sharedb', 'sharedb-postgres'] as const;
export type Peer = (typeof PEERS)[number];

export const USAGE = `usage: npm run bench:load -- [--users 200] [--docs 40] [--hot-docs 2] [--hot-users 40]
  [--rate 5] [--seconds 30] [--embedded] [--partitions 6] [--servers processes|in-process]
  [--clients sdk|light] [--instances 1] [--idle-seconds 10] [--load-every-ms 200]
  [--user-processes 2] [--peer none|embedded,sharedb,sharedb-postgres] [--drops 5] [--seed 1]
  [--out reports] [--peer-only] [--url ws://host:port/v1/ws (with BENCH_JWT_SECRET)]`;

export function parseLoadOptions(argv: string[]): LoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '200' },
      docs: { type: 'string', default: '40' },
      'hot-docs': { type: 'string', default: '2' },
      'hot-users': { type: 'string', default: '40' },
      rate: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '30' },
      embedded: { type: 'boolean', default: false },
      partitions: { type: 'string', default: '6' },
      clients: { type: 'string', default: 'sdk' },
      instances: { type: 'string', default: '1' },
      'idle-seconds': { type: 'string', default: '10' },
      'load-every-ms': { type: 'string', default: '200' },
      servers: { type: 'string', default: 'processes' },
      'user-processes': { type: 'string', default: String(DEFAULT_USER_PROCESSES) },
      peer: { type: 'string', default: 'none' },
      drops: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'reports' },
      'peer-only': { type: 'boolean', default: false },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const num = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) problems.push(`--${name} ${raw}: a number >= ${min}`);
    return n;
  };
  const options: LoadOptions = {
    users: num('users', values.users, 1),
    docs: num('docs', values.docs, 1),
    hotDocs: num('hot-docs', values['hot-docs'], 0),
    hotUsers: num('hot-users', values['hot-users'], 0),
    rate: num('rate', values.rate, 0.1),
    seconds: num('seconds', values.seconds, 1),
    embedded: values.embedded,
    partitions: num('partitions', values.partitions, 1),
    servers: values.servers as LoadOptions['servers'],
    userProcesses: num('user-processes', values['user-processes'], 1),
    peers: values.peer === 'none' ? [] : (values.peer.split(',') as Peer[]),
    clients: values.clients as LoadOptions['clients'],
    instances: num('instances', values.instances, 1),
    idleSeconds: num('idle-seconds', values['idle-seconds'], 0),
    loadEveryMs: num('load-every-ms', values['load-every-ms'], 0),
    drops: num('drops', values.drops, 0),
    seed: num('seed', values.seed, 0),
    out: values.out,
    peerOnly: values['peer-only'],
    url: values.url,
  };
  if (values.url !== undefined) problems.push(...remoteProblems(values.url, process.env.BENCH_JWT_SECRET, options));
  if (!['processes', 'in-process'].includes(values.servers)) {
    problems.push(`--servers ${values.servers}: processes or in-process`);
  }
  for (const peer of options.peers) {
    if (!PEERS.includes(peer)) problems.push(`--peer ${peer}: none, or a comma-separated list of ${PEERS.join(', ')}`);
  }
  if (options.embedded && options.peers.includes('embedded')) {
    problems.push('--peer embedded and --embedded: ours already runs embedded');
  }
  if (!Number.isInteger(options.instances)) problems.push('--instances: a whole number');
  if (options.instances > 1 && (options.embedded || values.url !== undefined || values.servers !== 'processes')) {
    problems.push('--instances: several command-service instances need the distributed mode started by the bench');
  }
  if (!['sdk', 'light'].includes(values.clients)) problems.push(`--clients ${values.clients}: sdk or light`);
  if (!Number.isInteger(options.userProcesses)) problems.push('--user-processes: a whole number');
  if (options.hotDocs > options.docs) problems.push('--hot-docs: at most --docs');
  if (options.hotUsers > options.users) problems.push('--hot-users: at most --users');
  if (options.hotDocs === 0 && options.hotUsers > 0) problems.push('--hot-users needs --hot-docs > 0');
  if (options.hotDocs === options.docs && options.hotUsers < options.users) {
    problems.push('every document is hot: give --hot-users = --users, or fewer --hot-docs');
  }
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n${USAGE}`);
    process.exit(2);
  }
  return options;
}

/** What is wrong with a --url run (a server of ours elsewhere), all at once. */
export function remoteProblems(
  url: string,
  secret: string | undefined,
  options: Pick<LoadOptions, 'embedded'>,
): string[] {
  const problems: string[] = [];
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    problems.push(`--url ${url}: not a URL`);
  }
  if (parsed !== undefined && parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    problems.push(`--url ${url}: a ws:// or wss:// URL (the command-service's /v1/ws)`);
  }
  if (secret === undefined || secret.length < 32) {
    problems.push(
      "--url needs BENCH_JWT_SECRET: the server's COLLAB_JWT_SECRET (32 characters or more), to sign the users' tokens",
    );
  }
  if (options.embedded) problems.push('--url and --embedded: the server is already running; leave out --embedded');
  return problems;
}

/** Which document each user types in: hot users over the first hotDocs, the rest round-robin over the others. */
export function assignDocuments(options: LoadOptions, docIds: readonly string[]): string[] {
  return Array.from({ length: options.users }, (_, i) => {
    if (i < options.hotUsers) return docIds[i % options.hotDocs]!;
    const cold = options.docs - options.hotDocs;
    return docIds[options.hotDocs + ((i - options.hotUsers) % cold)]!;
  });
}

/** The users and documents of one user process. */
export interface UserShare {
  /** Indices of the users (into assignDocuments' list). */
  users: number[];
  docIds: string[];
}

/**
 * Splits the documents, whole, over at most `processes` user processes (never more than there are documents):
 * every user of a document lands in the process of that document. Largest documents first, each to the process
 * with the fewest users so far (then the fewest documents), which keeps the users per process within one
 * document's users of each other.
 */
export function assignUserProcesses(
  userDocs: readonly string[],
  docIds: readonly string[],
  processes: number,
): UserShare[] {
  const usersOf = new Map<string, number[]>(docIds.map((id) => [id, []]));
  userDocs.forEach((docId, user) => usersOf.get(docId)?.push(user));
  const shares: UserShare[] = Array.from({ length: Math.max(1, Math.min(processes, docIds.length)) }, () => ({
    users: [],
    docIds: [],
  }));
  const bySize = [...docIds].sort((a, b) => usersOf.get(b)!.length - usersOf.get(a)!.length);
  for (const docId of bySize) {
    const share = shares.reduce((best, s) =>
      s.users.length < best.users.length ||
      (s.users.length === best.users.length && s.docIds.length < best.docIds.length)
        ? s
        : best,
    );
    share.docIds.push(docId);
    share.users.push(...usersOf.get(docId)!);
  }
  for (const share of shares) share.users.sort((a, b) => a - b);
  return shares;
}
