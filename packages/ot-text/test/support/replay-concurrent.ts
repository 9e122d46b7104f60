/**
 * Replays a concurrent editing trace through the central-server simulation. Each agent is a client; the server
 * commits transactions in trace order. Before an agent makes transaction i it integrates exactly the server
 * messages the trace says it had seen (its own, and a prefix of the others'), so its positions mean what they
 * meant to its author.
 */
import { SimClient, SimServer } from './central-server.js';
import type { ConcurrentTrace } from './traces.js';
import { patchToOp } from './traces.js';

export interface ReplayResult {
  server: string;
  clients: string[];
  messages: number;
}

export function replayConcurrent(trace: ConcurrentTrace): ReplayResult {
  const agents = trace.numAgents;
  const server = new SimServer('', agents);
  const clients = Array.from({ length: agents }, (_, id) => new SimClient(id, '', server));
  const txns = trace.txns;
  // seen[t * agents + b]: the highest transaction of agent b in t's history, t included (-1: none).
  const seen = new Int32Array(txns.length * agents);
  const need = new Int32Array(agents);
  const txnOfMessage: number[] = [];

  for (let i = 0; i < txns.length; i++) {
    const txn = txns[i]!;
    const a = txn.agent;
    need.fill(-1);
    for (const p of txn.parents) {
      if (!(p >= 0 && p < i)) throw new Error(`txn ${i}: parent ${p} is not an earlier transaction`);
      for (let b = 0; b < agents; b++) need[b] = Math.max(need[b]!, seen[p * agents + b]!);
    }
    seen.set(need, i * agents);
    seen[i * agents + a] = i;

    const client = clients[a]!;
    let horizon = -Infinity;
    for (let b = 0; b < agents; b++) if (b !== a) horizon = Math.max(horizon, need[b]!);
    for (let msg = client.peek(); msg !== undefined && txnOfMessage[msg.version]! <= horizon; msg = client.peek()) {
      const t = txnOfMessage[msg.version]!;
      if (msg.author !== a && t > need[msg.author]!) {
        throw new Error(
          `txn ${i}: agent ${a} saw agent ${msg.author}'s txn ${need[msg.author]} but not txn ${t} before it`,
        );
      }
      client.receiveNext();
    }
    for (const patch of txn.patches) {
      const op = patchToOp(patch);
      if (op.length === 0) continue;
      txnOfMessage.push(i);
      client.edit(op);
    }
  }

  for (const client of clients) client.drain();
  for (const client of clients) {
    if (client.pending > 0) throw new Error(`client ${client.id} still has pending ops`);
  }
  return { server: server.doc.toString(), clients: clients.map((c) => c.doc.toString()), messages: server.log.length };
}
