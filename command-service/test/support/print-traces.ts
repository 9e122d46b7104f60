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

/** When each op's submit span arrived: its trace is printed 5 s later, once the consumers' spans are in. */
const firstSeen = new Map<string, number>();

setInterval(() => {
  for (const root of receiver.spans.filter((s) => s.name === 'collab.submit' && !printed.has(s.traceId))) {
    const seen = firstSeen.get(root.traceId) ?? Date.now();
    firstSeen.set(root.traceId, seen);
    if (Date.now() - seen < 5_000) continue;
    printed.add(root.traceId);
    console.log(`\ntrace ${root.traceId}`);
    for (const line of tree(
      receiver.spans.filter((s) => s.traceId === root.traceId),
      undefined,
      1,
    ))
      console.log(line);
    // A consumer's batch span belongs to its first record's trace and links the others' appends.
    for (const s of receiver.spans.filter((x) => x.links.some((l) => l.traceId === root.traceId))) {
      console.log(`  linked from ${s.name} (${s.service}), a batch in trace ${s.traceId}`);
    }
  }
}, 1_000);
process.on('SIGINT', () => void receiver.close().then(() => process.exit(0)));
