/**
 * Instruments that work whenever they were declared.
 *
 * The OpenTelemetry API proxies tracers (a tracer taken before the SDK starts forwards to it later) but not meters:
 * `metrics.getMeter()` before `startTelemetry` returns a no-op meter, and every instrument made from it stays a
 * no-op forever. Instruments are naturally declared at module load, long before an entry point starts the SDK —
 * which is how the command-service exported `# no registered metrics` in every process operators ran.
 *
 * `defineInstruments` keeps the natural declaration and fixes the timing: the instruments are built from the
 * MeterProvider registered when they are first used, and built again if a different provider has been registered
 * since (in a service, once: the no-op before start-up, the SDK's after). Read them through the returned object
 * each time (`instruments.opsCommitted.add(1)`); a reference kept in a variable would stay on the old provider.
 * `startTelemetry` rebuilds every set at once, so observable gauges (read by the SDK, never touched by the code)
 * register with the real provider too.
 */
import type { Meter, MetricOptions } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

const definitions = new Set<() => unknown>();

/** Build every defined set of instruments on the provider registered now (startTelemetry calls it). */
export function refreshInstruments(): void {
  for (const resolve of definitions) resolve();
}

export function defineInstruments<T extends object>(meterName: string, create: (meter: Meter) => T): T {
  let provider: unknown;
  let current: T | undefined;
  const resolve = (): T => {
    const registered = metrics.getMeterProvider();
    if (current === undefined || registered !== provider) {
      provider = registered;
      current = create(registered.getMeter(meterName));
    }
    return current;
  };
  definitions.add(resolve);
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(resolve(), key) as unknown,
    has: (_target, key) => Reflect.has(resolve(), key),
    ownKeys: () => Reflect.ownKeys(resolve()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(resolve(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
}

/**
 * Histogram buckets for latencies in seconds, 0.5 ms to 10 s: the SDK's default boundaries (0 to 10,000) were made
 * for milliseconds and would put every latency in seconds in the first bucket.
 */
const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The options of a latency histogram: seconds (the base unit), with buckets made for seconds. */
export function latencyHistogram(description: string): MetricOptions {
  return { unit: 's', description, advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] } };
}
