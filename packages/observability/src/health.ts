/**
 * Liveness and readiness that reflect the real state of a service's dependencies. A check is a small real
 * request to the dependency (end offsets from Kafka, one partition-key read from Cassandra, one list from S3):
 * "the client object exists" says nothing about whether the server behind it answers.
 *
 * Every check is bounded by a timeout, so a hung dependency makes /readyz answer 503 quickly instead of hanging
 * the orchestrator's probe; checks run in parallel, so the slowest one bounds the answer.
 */

/** Resolves when the dependency answered; rejects (or never settles) when it is down. */
export type DependencyCheck = () => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  /** How long the check took (ms), or the timeout when it did not finish. */
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/** What /readyz reports once the process is stopping (the process kit's drain): 503 while it still serves. */
export const DRAINING: ReadinessReport = {
  ready: false,
  checks: { shutdown: { ok: false, ms: 0, error: 'draining' } },
};

export async function runCheck(check: DependencyCheck, timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { ok: false, ms: Math.round(performance.now() - started), error };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel; ready only when all pass. */
export async function checkDependencies(
  checks: Record<string, DependencyCheck>,
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
  );
  return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}

/** The HTTP answer for a readiness report: 200 when ready, 503 naming what is down. */
export function readinessResponse(report: ReadinessReport): { status: number; body: string } {
  const down = Object.entries(report.checks)
    .filter(([, r]) => !r.ok)
    .map(([name]) => name);
  return {
    status: report.ready ? 200 : 503,
    body: JSON.stringify({ status: report.ready ? 'ready' : 'not ready', down, checks: report.checks }),
  };
}
