/**
 * `npx tsx --conditions=@collab/source command-service/test/support/print-traces.ts [port]`: the test's OTLP/HTTP
 * receiver on 127.0.0.1:4318 (or `port`), printing each op's trace as a tree once its spans have arrived — the
 * "see one op's trace" walkthrough of docs/operations.md with nothing but this repository. Point the services'
 * OTEL_EXPORTER_OTLP_ENDPOINT at it (JSON encoding, the services' default). Ctrl-C stops it.
 */
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const receiver = await OtlpReceiver.start(Number(process.argv[2] ?? 4318));
console.log(`OTLP/HTTP receiver on ${receiver.endpoint}: traces that start with collab.submit are printed`);
const printed = new Set<string>();

function tree(spans: ReceivedSpan[], parent: string | undefined, depth: number): string[] {
  return spans
    .filter((s) => s.parentSpanId === parent)
    .flatMap((s) => [
      `${'  '.repeat(depth)}${s.name}  (${s.service}${s.instance === undefined ? '' : ` ${s.instance.slice(0, 8)}`})`,
      ...tree(spans, s.spanId, depth + 1),
    ]);
}

setInterval(() => {
  // A trace is printed once it has more than its submit (the projection and snapshot export every few seconds).
  const roots = receiver.spans.filter((s) => s.name === 'collab.submit' && !printed.has(s.traceId));
  for (const root of roots) {
    const spans = receiver.spans.filter((s) => s.traceId === root.traceId);
    if (!spans.some((s) => s.service === 'collab-projection-service')) continue;
    printed.add(root.traceId);
    console.log(`\ntrace ${root.traceId}`);
    for (const line of tree(spans, undefined, 1)) console.log(line);
    const linked = receiver.spans.filter((s) => s.links.some((l) => l.traceId === root.traceId));
    for (const s of linked) console.log(`  linked from ${s.name} (${s.service}, another trace's batch)`);
  }
}, 2_000);
process.on('SIGINT', () => void receiver.close().then(() => process.exit(0)));
