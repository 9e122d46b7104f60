/**
 * Presence settings from the environment, validated once by a composition root (the command-service's main):
 *
 * - COLLAB_PRESENCE_TTL_MS: how long a silent client stays visible (default 5000; heartbeats every TTL/3);
 * - COLLAB_PRESENCE_UPDATES_PER_SECOND: cursor updates per second per client that go out (default 20; the rest
 *   coalesce, newest wins).
 */
import { z } from 'zod';

export interface PresenceSettings {
  ttlMs: number;
  updatesPerSecond: number;
}

export const DEFAULT_PRESENCE_SETTINGS: PresenceSettings = { ttlMs: 5000, updatesPerSecond: 20 };

const Env = z.object({
  COLLAB_PRESENCE_TTL_MS: z.coerce.number().int().min(300).max(600_000).default(5000),
  COLLAB_PRESENCE_UPDATES_PER_SECOND: z.coerce.number().min(0.1).max(1000).default(20),
});

/** Throws an Error naming every bad variable at once. */
export function loadPresenceSettings(env: Record<string, string | undefined>): PresenceSettings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid presence configuration: ${problems}`);
  }
  return {
    ttlMs: parsed.data.COLLAB_PRESENCE_TTL_MS,
    updatesPerSecond: parsed.data.COLLAB_PRESENCE_UPDATES_PER_SECOND,
  };
}
