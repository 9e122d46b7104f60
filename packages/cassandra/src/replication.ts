/**
 * Keyspace replication. Tests and a one-node dev stack use SimpleStrategy with replication_factor 1. Production
 * uses NetworkTopologyStrategy with a factor per data center (typically 3), which is what LOCAL_QUORUM reads and
 * writes assume: a quorum of 3 replicas in the local DC survives one replica down.
 */
import { CollabError } from '@collab/core';

export type Replication =
  | { class: 'SimpleStrategy'; replicationFactor: number }
  | { class: 'NetworkTopologyStrategy'; dataCenters: Record<string, number> };

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
// Data-center names come from the snitch and may hold dots and dashes (e.g. "us-east"); never quotes.
const DATA_CENTER = /^[A-Za-z0-9_.-]{1,64}$/;

/** A keyspace or data-center name we are willing to splice into CQL (DDL cannot take bind markers). */
export function checkIdentifier(kind: string, name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `Invalid ${kind} name ${JSON.stringify(name)}: use [A-Za-z0-9_]`);
  }
  return name;
}

const factor = (n: number): number => {
  if (!Number.isInteger(n) || n < 1 || n > 32) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `Invalid replication factor ${n}`);
  }
  return n;
};

/** The CQL map literal for `WITH replication = ...`. */
export function replicationCql(replication: Replication): string {
  if (replication.class === 'SimpleStrategy') {
    return `{'class': 'SimpleStrategy', 'replication_factor': ${factor(replication.replicationFactor)}}`;
  }
  const entries = Object.entries(replication.dataCenters);
  if (entries.length === 0)
    throw new CollabError('ERR_INVALID_ARGUMENT', 'NetworkTopologyStrategy needs a data center');
  const dcs = entries.map(([dc, n]) => {
    if (!DATA_CENTER.test(dc)) throw new CollabError('ERR_INVALID_ARGUMENT', `Invalid data center name ${dc}`);
    return `'${dc}': ${factor(n)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${dcs.join(', ')}}`;
}
