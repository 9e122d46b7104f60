/**
 * The keyspace's projection source (migration 0004): the consumer group whose committed offsets describe what
 * this keyspace holds, per op topic. Claimed once, by the first projection-service to start on the keyspace,
 * with a lightweight transaction; never overwritten. Readers that combine "the group's committed offset" with
 * "what the read models hold" (the command-service's document load) check that they name the same group.
 */
import { CollabError } from '@collab/core';

import type { Executor } from './executor.js';
import { str } from './rows.js';
import type { Statements } from './statements.js';

export interface SourceContext {
  exec: Executor;
  cql: Statements;
  keyspace: string;
  serialConsistency: number;
}

/** The group that projects `topic` into this keyspace, or undefined if none has claimed it yet. */
export async function projectionSource(ctx: SourceContext, topic: string): Promise<string | undefined> {
  const row = (await ctx.exec.execute(ctx.cql.selectProjectionSource, [topic], 'read projection source')).first();
  return row === null || row === undefined ? undefined : str(row, 'group_id');
}

/**
 * Claims the keyspace for `groupId` (idempotent for the same group). Rejects with ERR_CONFLICT, naming both
 * groups, when another group has claimed it: two groups projecting one keyspace would each commit offsets that
 * describe only part of it.
 */
export async function claimProjectionSource(ctx: SourceContext, topic: string, groupId: string): Promise<void> {
  const result = await ctx.exec.execute(
    ctx.cql.claimProjectionSource,
    [topic, groupId, new Date()],
    'claim projection source',
  );
  if (result.wasApplied()) return;
  // Not applied: the row exists, and an LWT's answer carries its current values.
  const holder = result.first()?.get('group_id') as unknown;
  if (holder === groupId) return;
  throw new CollabError(
    'ERR_CONFLICT',
    `keyspace ${ctx.keyspace} is projected from topic ${topic} by consumer group ${String(holder)}, not ${groupId}: ` +
      'use that group, or rebuild into a fresh keyspace for a new one (docs/operations.md)',
    { retriable: false },
  );
}
