/**
 * The bench's own HTTP load generator (undici). Open loop: requests are started on a fixed
 * schedule whatever the answers do, and latency is measured from the scheduled start, so a slow
 * system is not hidden by the generator slowing down with it (no coordinated omission). Closed
 * loop: N workers, each sends its next request when the previous one is answered (saturation).
 */
import { Pool } from 'undici';

export interface Op {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: string;
  /** Label for the figures, e.g. 'book', 'cancel', 'view'. */
  kind: string;
}

export interface Outcome {
  op: Op;
  status: number;
  /** 0 when the request failed without an answer. */
  body: string;
  latencyMs: number;
  error?: string;
  /** The edge's `x-cache` answer header (HIT, MISS), when it sent one. */
  cache?: string;
}

export interface LoadResult {
  seconds: number;
  sent: number;
  outcomes: number;
  errors: number;
  /** Per kind: status -> count. */
  statuses: Record<string, Record<string, number>>;
  /** Per kind and status class ('2xx'), latencies in ms. */
  latencies: Record<string, number[]>;
  /** Per kind: 2xx answers that arrived within the phase's window (open loop: the offered seconds). */
  inWindow: Record<string, number>;
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
  };
}

export function createClient(url: string, connections: number, headers: Record<string, string>) {
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000, keepAliveTimeout: 30_000 });
  async function send(op: Op, startedAt: number): Promise<Outcome> {
    try {
      const response = await pool.request({
        method: op.method,
        path: op.path,
        headers: op.body !== undefined ? { ...headers, 'content-type': 'application/json' } : headers,
        body: op.body,
      });
      const body = await response.body.text();
      const cache = response.headers['x-cache'];
      return { op, status: response.statusCode, body, latencyMs: performance.now() - startedAt, cache: typeof cache === 'string' ? cache : undefined };
    } catch (err) {
      return { op, status: 0, body: '', latencyMs: performance.now() - startedAt, error: (err as Error).message };
    }
  }
  return { send, close: () => pool.close() };
}

type Client = ReturnType<typeof createClient>;

function collector(windowEnd: number) {
  const result: LoadResult = { seconds: 0, sent: 0, outcomes: 0, errors: 0, statuses: {}, latencies: {}, inWindow: {} };
  return {
    result,
    add(outcome: Outcome) {
      if (outcome.status >= 200 && outcome.status < 300 && performance.now() <= windowEnd) {
        result.inWindow[outcome.op.kind] = (result.inWindow[outcome.op.kind] ?? 0) + 1;
      }
      result.outcomes += 1;
      if (outcome.status === 0) result.errors += 1;
      const byKind = (result.statuses[outcome.op.kind] ??= {});
      const key = outcome.status === 0 ? 'error' : String(outcome.status);
      byKind[key] = (byKind[key] ?? 0) + 1;
      if (outcome.status >= 200 && outcome.status < 300) (result.latencies[outcome.op.kind] ??= []).push(outcome.latencyMs);
    },
  };
}

/** Starts `rate` operations per second for `seconds`, then waits (30 s at most) for the answers. */
export async function openLoop(client: Client, rate: number, seconds: number, next: () => Op, onOutcome: (o: Outcome) => void): Promise<LoadResult> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  const c = collector(start + seconds * 1000);
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const scheduled = start + sent * interval;
        sent += 1;
        const p: Promise<void> = client.send(next(), scheduled).then((o) => {
          c.add(o);
          onOutcome(o);
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, start + sent * interval - performance.now())));
    };
    tick();
  });
  await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, 30_000))]);
  c.result.sent = sent;
  // Throughput is judged over the offered window: answers that came later (a backlog) do not count.
  c.result.seconds = seconds;
  return c.result;
}

/** `workers` requests in flight at all times for `seconds`. */
export async function closedLoop(client: Client, workers: number, seconds: number, next: () => Op, onOutcome: (o: Outcome) => void): Promise<LoadResult> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const c = collector(Infinity);
  let sent = 0;
  const worker = async () => {
    while (performance.now() < end) {
      sent += 1;
      const o = await client.send(next(), performance.now());
      c.add(o);
      onOutcome(o);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  c.result.sent = sent;
  c.result.seconds = (performance.now() - start) / 1000;
  return c.result;
}
