/**
 * `@collab/client/testing`: the server and the network, simulated in memory on virtual time, to unit-test an app
 * built on the SDK without a server. The SDK's own tests run on them.
 *
 * - `SimServer` answers the protocol with the real sequencer decision (@collab/core's `decideSubmit`/`evolve`):
 *   auth, opens (snapshot, catch-up or resync), acks after commit, broadcasts, state hashes, injected faults.
 * - `FakeNetwork` connects clients to it: `network.WebSocket` is the constructor to hand to `CollabClient`; it
 *   keeps each connection in order, delays, drops, refuses and duplicates frames as told.
 * - `ManualScheduler` is the clock: hand it to `CollabClient` as `scheduler`; nothing happens until a test
 *   advances it.
 * - `Rng` is the seeded randomness both draw from: a seed reproduces a run.
 * - `laggySocketClass` wraps a real WebSocket constructor (against a real server) so that frames arrive late, in
 *   order, and a connection can be killed without a closing handshake.
 *
 * Browser-safe like the SDK (no Node built-ins).
 */
export { FakeNetwork, FakeSocket, Connection } from './fake-network.js';
export type { NetworkOptions } from './fake-network.js';
export { ManualScheduler } from './manual-scheduler.js';
export { Rng } from './rng.js';
export { laggySocketClass } from './laggy-socket.js';
export type { LaggySocket } from './laggy-socket.js';
export { DEFAULT_LIMITS, SimServer, SimSession } from './sim-server.js';
export type { SimServerOptions } from './sim-server.js';
