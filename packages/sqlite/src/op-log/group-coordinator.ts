/**
 * Consumer-group membership inside one process: the embedded mode's stand-in for Kafka's group coordinator.
 *
 * Members of a group split the partitions round-robin in join order (partition p goes to member p mod n). Every
 * join and leave rebalances the group, one rebalance at a time per group: first every member gives up the
 * partitions it loses (each revoke waits for the batch in hand and commits its checkpoints), only then are the
 * new owners given theirs (onAssigned, then delivery from the committed offset). So a partition never has two
 * owners at once and a new owner always starts from its predecessor's last checkpoint.
 *
 * The registry lives in the storage object, so only consumers of the same storage form a group: two processes
 * (or two storages) on one file would each deliver every partition to their own members. The embedded mode is one
 * process; see the README.
 */
import { CollabError, type ConsumeOptions, type Consumer, bestEffort } from '@collab/core';
import type { LogContext } from './context.js';
import { GroupMember } from './group-member.js';

interface Group {
  members: GroupMember[];
  /** The rebalance in progress (rebalances of one group run one after another). */
  queue: Promise<void>;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly ctx: LogContext) {}

  async join(options: ConsumeOptions): Promise<Consumer> {
    if (typeof options.groupId !== 'string' || options.groupId === '') {
      throw new CollabError('ERR_INVALID_ARGUMENT', 'consume needs a non-empty groupId');
    }
    if (typeof options.handler !== 'function') throw new CollabError('ERR_INVALID_ARGUMENT', 'consume needs a handler');
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = { members: [], queue: Promise.resolve() };
      this.groups.set(options.groupId, group);
    }
    const member = new GroupMember(this.ctx, options, (m) => this.leave(m));
    group.members.push(member);
    try {
      await this.rebalance(group);
    } catch (err) {
      await bestEffort(member.stop());
      throw err;
    }
    return member;
  }

  /** Stop every member of every group (the log is closing). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.groups.values()].flatMap((g) => g.members.map((m) => m.stop())));
  }

  private async leave(member: GroupMember): Promise<void> {
    const group = this.groups.get(member.groupId);
    if (group === undefined) return;
    group.members = group.members.filter((m) => m !== member);
    await this.rebalance(group, member);
    if (group.members.length === 0 && this.groups.get(member.groupId) === group) this.groups.delete(member.groupId);
  }

  private rebalance(group: Group, leaving?: GroupMember): Promise<void> {
    const next = group.queue.then(async () => {
      if (leaving !== undefined) await leaving.revoke(leaving.partitions());
      const members = [...group.members];
      const target = new Map(members.map((m) => [m, [] as number[]]));
      if (members.length > 0) {
        for (let p = 0; p < this.ctx.partitionCount; p++) target.get(members[p % members.length]!)!.push(p);
      }
      await Promise.all(members.map((m) => m.revoke(m.partitions().filter((p) => !target.get(m)!.includes(p)))));
      await Promise.all(
        members.map((m) => {
          const owned = new Set(m.partitions());
          return m.assign(target.get(m)!.filter((p) => !owned.has(p)));
        }),
      );
    });
    // A failed rebalance (the file became unreadable) must not wedge the queue for every later one.
    group.queue = next.catch((err: unknown) => this.ctx.logger.error({ err }, 'sqlite op log: rebalance failed'));
    return next;
  }
}
