/**
 * The wire form of a committed op: exactly the fields `WireOp` carries, taken from a log record (which has more —
 * the document id, the base version — that a subscriber already knows or does not need).
 */
import type { WireOp } from './server-messages.js';

export function toWireOp(record: WireOp): WireOp {
  return {
    version: record.version,
    op: record.op,
    clientId: record.clientId,
    seq: record.seq,
    userId: record.userId,
    timestamp: record.timestamp,
  };
}
