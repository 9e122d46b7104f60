/**
 * What the workload needs from a system under test, so the same users, documents and schedule drive our
 * service and the reference peer. Each adapter reports acks, deliveries and errors to the Recorder itself,
 * because only it can see its SDK's events.
 */
import type { ServerProcess } from './server-process.js';
import type { Recorder } from './recorder.js';

export interface SimDocument {
  /** Current text as the user sees it. */
  readonly text: string;
  /** Length in UTF-16 units (the bench types ASCII, so = code points). */
  readonly length: number;
  /** The last server version integrated. */
  readonly version: number;
  /** Keystrokes not yet acknowledged. */
  readonly pending: number;
  insert(offset: number, text: string): void;
  delete(offset: number, length: number): void;
  /** Cursor update through presence, when the system has it (undefined: not supported). */
  setCursor?: (offset: number) => void;
  close(): void;
}

export interface SimConnection {
  open(docId: string): Promise<SimDocument>;
  /** Kill the socket without a goodbye (the client reconnects on its own). */
  drop(): void;
  close(): Promise<void>;
}

/**
 * How a simulated user reaches a system, as plain data: a user process (user-child.ts) builds its connections
 * from it (see targets/users.ts).
 */
export type UserEndpoint =
  | {
      kind: 'collab';
      url: string;
      /** HS256 secret the users sign their dev tokens with. */
      secret: string;
      /** Several command-service instances: user i connects to urls[i mod length] (url is the first). */
      urls?: string[];
    }
  | { kind: 'sharedb'; url: string };

export interface Target {
  readonly name: string;
  /** What this target is, for the report (mode, backend, adapters). */
  readonly description: string;
  /** Docker containers this target talks to (for docker stats). */
  readonly containers: readonly string[];
  /** The server processes (CPU and memory are sampled; event-loop delay and CPU wait where `measure` is). */
  readonly processes?: readonly (Pick<ServerProcess, 'name' | 'pid' | 'measure'> & {
    helpers?: ServerProcess['helpers'];
  })[];
  /** Where the users connect (serializable, for the user processes). */
  readonly endpoint: UserEndpoint;
  /** Create documents before the run, if the system needs that (ShareDB does). */
  prepare(docIds: readonly string[]): Promise<void>;
  connect(userId: string, recorder: Recorder): Promise<SimConnection>;
  close(): Promise<void>;
}
