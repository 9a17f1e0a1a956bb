/**
 * The webhook receiver every phase sends to, in its own process: answers at once (or after
 * --delay-ms, or with a 500 for a --failure-rate share of requests), counts requests and
 * keeps publish-to-receiver latencies, read from the `publishedAt` field of the event data.
 * The parent resets and reads the figures over IPC between phases.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { serveParent } from './ipc.js';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface ReceiverReport {
  requests: number;
  failuresAnswered: number;
  latency: LatencySummary | null;
}

const { values } = parseArgs({ options: { 'delay-ms': { type: 'string', default: '0' }, 'failure-rate': { type: 'string', default: '0' } } });
const delayMs = Number(values['delay-ms']);
const failureRate = Number(values['failure-rate']);

// Enough for any phase; a bound so that a runaway phase cannot exhaust memory.
const maximumLatencySamples = 2_000_000;
// Matched rather than parsed: JSON.parse of every body would make the receiver the busiest process.
const publishedAtPattern = /"publishedAt":(\d+(?:\.\d+)?)/;

let requests = 0;
let failuresAnswered = 0;
let latencies: number[] = [];

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: Float64Array, share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]!;
}

function report(): ReceiverReport {
  // A typed array sorts numerically, and fast.
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests,
    failuresAnswered,
    latency: sorted.length === 0 ? null : { count: sorted.length, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) },
  };
}

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const receivedAt = Date.now();
    requests++;
    const publishedAt = publishedAtPattern.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
    if (publishedAt !== undefined && latencies.length < maximumLatencySamples) latencies.push(receivedAt - Number(publishedAt));
    const fail = failureRate > 0 && Math.random() < failureRate;
    if (fail) failuresAnswered++;
    const answer = () => {
      response.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
      response.end(fail ? 'failed on purpose' : 'ok');
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});
// Senders keep connections open between phases; a short idle timeout would make them reconnect mid-phase.
server.keepAliveTimeout = 60_000;

server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  serveParent(
    {
      reset() {
        requests = 0;
        failuresAnswered = 0;
        latencies = [];
      },
      report,
      count: () => requests,
      stop: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
    },
    { port },
  );
});
