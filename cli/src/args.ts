/** Parsing of flag values, pure and unit-tested; each failure is a UsageError naming the flag. */
import { UsageError } from './errors.js';

const DIGITS = /^\d+$/;

export function parseNonNegativeInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!DIGITS.test(raw) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag}: must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function parsePositiveInt(flag: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = parseNonNegativeInt(flag, raw);
  if (n < 1 || n > max) throw new UsageError(`${flag}: must be between 1 and ${max}, got ${raw}`);
  return n;
}

/**
 * A point in time: milliseconds since the epoch, or an ISO-8601 date-time with a zone ("Z" or "+02:00"). A
 * zone-less date-time is refused: it would be read in this machine's zone, not the server's.
 */
export function parseTime(flag: string, raw: string): number {
  if (DIGITS.test(raw)) return parseNonNegativeInt(flag, raw);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw);
  const ms = Date.parse(raw);
  if (!zoned || Number.isNaN(ms)) {
    throw new UsageError(
      `${flag}: give milliseconds since the epoch or an ISO-8601 date-time with a zone (2024-05-01T12:00:00Z), got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

/**
 * Offsets per partition: "1200" (every partition) or "0=1200,3=5000" / "0:1200,3:5000" (the partitions named;
 * absent from the map are the others). Each partition at most once.
 */
export function parsePartitionOffsets(flag: string, raw: string, partitions: number): Map<number, bigint> {
  const trimmed = raw.trim();
  if (DIGITS.test(trimmed)) return new Map(Array.from({ length: partitions }, (_, p) => [p, BigInt(trimmed)]));
  const offsets = new Map<number, bigint>();
  const bad: string[] = [];
  for (const part of trimmed.split(',').map((s) => s.trim())) {
    const match = /^(\d+)[=:](\d+)$/.exec(part);
    const partition = match === null ? NaN : Number(match[1]);
    if (match === null || partition >= partitions || offsets.has(partition)) {
      bad.push(part);
      continue;
    }
    offsets.set(partition, BigInt(match[2]!));
  }
  if (bad.length > 0) {
    throw new UsageError(
      `${flag}: ${bad.map((b) => JSON.stringify(b)).join(', ')} not <offset> or <partition>=<offset> (or <partition>:<offset>) with a partition in [0, ${partitions}), each partition once`,
    );
  }
  return offsets;
}

/**
 * Where a replay starts: "1200" (every partition from offset 1200) or "0=1200,3=5000" (those partitions; the
 * others from 0).
 */
export function parseFromOffsets(flag: string, raw: string, partitions: number): bigint[] {
  const named = parsePartitionOffsets(flag, raw, partitions);
  return Array.from({ length: partitions }, (_, p) => named.get(p) ?? 0n);
}
