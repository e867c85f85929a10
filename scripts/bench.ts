/**
 * `npm run bench`: throughput, latency, durability, read and live-stream figures of the whole
 * system, through the edge, with a fixed seeded workload. A script, not a test: it needs the
 * system running (`RATE_LIMIT_PER_SECOND=0 npm start`). See docs/performance.md.
 *
 *   npm run bench                      everything below
 *   npm run bench -- --reads           only the read side: views/s and p99, 1,000 streams
 *   npm run bench -- --scale-out       starts a 2nd allocator, a 2nd gateway and an edge over both, books through it
 *
 * Phases: setup (seeded doctors and slots, capacity 20..40) -> bookings at fixed offered rates
 * (open loop: 100, 500, 1,000, 2,000/s; 5% of operations cancel an earlier booking) -> saturation
 * (closed loop) -> durability (201s vs PostgreSQL vs the views) -> booking-to-stream latency ->
 * views/s (edge and query service) -> 1,000 open streams receiving one change -> peak RSS.
 * Output: a summary, JSON (--json, default .cache/bench/results.json) and an SVG latency chart
 * (--svg, default .cache/bench/latency.svg).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { call, isReady, mapLimit, sleep } from './bench/api';
import { closedLoop, createClient, openLoop, percentiles, type LoadResult } from './bench/load';
import { cpuMeter, findProcesses, peakRssMb } from './bench/procs';
import { createRng } from './lib/rng';
import { openStream, waitForVersion, type StreamClient } from './bench/streams';
import { latencyChart, type ChartRow } from './bench/svg';
import { operations, setup, type BenchSlot, type Setup } from './bench/workload';
import { authHeaders } from './lib/api-key';
import { SERVICE_NODE_ARGS } from './lib/service-node-args.mjs';

const ROOT = path.resolve(__dirname, '..');

interface Options {
  url: string;
  queryUrl: string;
  allocatorUrl: string;
  databaseUrl: string;
  duration: number;
  rates: number[];
  saturationConnections: number;
  viewConnections: number;
  viewsBookingRate: number;
  slots: number | null;
  seed: number;
  cancelShare: number;
  streams: number;
  readsOnly: boolean;
  scaleOut: boolean;
  json: string;
  svg: string;
}

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(`usage: npm run bench -- [options]
  --url URL                   edge (default $OPD_URL or http://127.0.0.1:8080)
  --query-url URL             query service, for direct view figures (default http://127.0.0.1:3002)
  --allocator-url URL         allocator, for /stats (default http://127.0.0.1:3003)
  --database-url URL          PostgreSQL, for the durability check (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/opd)
  --duration S                seconds per phase (default 10)
  --rates LIST                offered booking rates, open loop (default 100,500,1000,2000)
  --saturation-connections N  closed-loop connections for the saturation phase (default 128; 0 skips it)
  --view-connections N        connections for the view phase (default 64)
  --views-booking-rate N      bookings/s offered during a third view phase via the edge, so views change
                              while they are read (default 100; 0 skips it)
  --slots N                   slots to create (default: enough that none fills, from rates and duration)
  --seed N                    workload seed (default 1)
  --cancel-share F            share of operations that cancel an earlier booking (default 0.05)
  --streams N                 open streams for the fan-out measurement (default 1000; 0 skips it)
  --reads                     read side only: views/s and p99, booking-to-stream latency, N streams
  --scale-out                 start a 2nd allocator (:3013), a 2nd gateway (:3011) and an edge over both (:8081); book through it
  --json FILE                 figures as JSON (default .cache/bench/results.json)
  --svg FILE                  latency chart (default .cache/bench/latency.svg)`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        'query-url': { type: 'string' },
        'allocator-url': { type: 'string' },
        'database-url': { type: 'string' },
        duration: { type: 'string' },
        rates: { type: 'string' },
        'saturation-connections': { type: 'string' },
        'view-connections': { type: 'string' },
        'views-booking-rate': { type: 'string' },
        slots: { type: 'string' },
        seed: { type: 'string' },
        'cancel-share': { type: 'string' },
        streams: { type: 'string' },
        reads: { type: 'boolean' },
        'scale-out': { type: 'boolean' },
        json: { type: 'string' },
        svg: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  if (v.help) usage();
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const rates = (v.rates ?? '100,500,1000,2000').split(',').filter(Boolean).map(Number);
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) usage('--rates must be positive numbers, comma-separated');
  const cancelShare = v['cancel-share'] === undefined ? 0.05 : Number(v['cancel-share']);
  if (!(cancelShare >= 0 && cancelShare < 1)) usage('--cancel-share must be in [0, 1)');
  const strip = (u: string) => u.replace(/\/+$/, '');
  return {
    url: strip(v.url ?? process.env.OPD_URL ?? 'http://127.0.0.1:8080'),
    queryUrl: strip(v['query-url'] ?? 'http://127.0.0.1:3002'),
    allocatorUrl: strip(v['allocator-url'] ?? process.env.ALLOCATOR_URL ?? 'http://127.0.0.1:3003'),
    databaseUrl: v['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/opd',
    duration: int('duration', v.duration, 10, 1),
    rates,
    saturationConnections: int('saturation-connections', v['saturation-connections'], 128, 0),
    viewConnections: int('view-connections', v['view-connections'], 64, 1),
    viewsBookingRate: int('views-booking-rate', v['views-booking-rate'], 100, 0),
    slots: v.slots === undefined ? null : int('slots', v.slots, 0, 1),
    seed: int('seed', v.seed, 1, 0),
    cancelShare,
    streams: int('streams', v.streams, 1000, 0),
    readsOnly: v.reads ?? false,
    scaleOut: v['scale-out'] ?? false,
    json: v.json ?? path.join(ROOT, '.cache', 'bench', 'results.json'),
    svg: v.svg ?? path.join(ROOT, '.cache', 'bench', 'latency.svg'),
  };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (line: string) => console.log(line);

// ---------------------------------------------------------------------------------------------
// Scale-out: a second allocator and gateway, and an edge that round-robins over both gateways.
// ---------------------------------------------------------------------------------------------

async function startScaleOut(): Promise<{ url: string; allocatorUrls: string[]; stop: () => Promise<void> }> {
  const dir = path.join(ROOT, '.cache', 'bench');
  const env = { ...process.env, RATE_LIMIT_PER_SECOND: process.env.RATE_LIMIT_PER_SECOND ?? '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const children: ChildProcess[] = [];
  const start = (name: string, extra: Record<string, string>) => {
    const out = openSync(path.join(dir, `${extra.INSTANCE_ID}.log`), 'w');
    // The bundles `npm start` built, run as it runs them, so the figures compare.
    const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, `services/${name}/dist/main.js`], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', out, out] });
    children.push(child);
  };
  start('allocator', { ALLOCATOR_PORT: '3013', INSTANCE_ID: 'bench-allocator-2' });
  start('booking', { BOOKING_PORT: '3011', INSTANCE_ID: 'bench-booking-2' });
  start('edge', { EDGE_PORT: '8081', INSTANCE_ID: 'bench-edge-2', BOOKING_URL: 'http://127.0.0.1:3001,http://127.0.0.1:3011' });
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.on('exit', r) : r(null)))));
  };
  const deadline = Date.now() + 90_000;
  for (const url of ['http://127.0.0.1:3013', 'http://127.0.0.1:3011', 'http://127.0.0.1:8081']) {
    while (!(await isReady(url))) {
      if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
        await stop();
        throw new Error(`scale-out: ${url} did not become ready (logs in ${dir})`);
      }
      await sleep(500);
    }
  }
  // Let the allocator group rebalance over both members before measuring.
  await sleep(5000);
  log('scale-out: allocator-2 :3013, gateway-2 :3011, edge :8081 over both gateways (round-robin) are up');
  return { url: 'http://127.0.0.1:8081', allocatorUrls: ['http://127.0.0.1:3003', 'http://127.0.0.1:3013'], stop };
}

// ---------------------------------------------------------------------------------------------

interface AllocatorStats {
  batches: number;
  commands: number;
  fenced: number;
  commitStatements?: number;
}

async function allocatorStats(urls: string[]): Promise<(AllocatorStats | null)[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const response = await call<AllocatorStats>(url, 'GET', '/stats', undefined, 2000);
        return response.status === 200 && typeof response.body?.batches === 'number' ? response.body : null;
      } catch {
        return null;
      }
    }),
  );
}

function bookingFigures(name: string, result: LoadResult, offered: number | null, stats: { before: (AllocatorStats | null)[]; after: (AllocatorStats | null)[] }, cpu: Record<string, number>) {
  const book = result.statuses.book ?? {};
  const cancel = result.statuses.cancel ?? {};
  const created = book['201'] ?? 0;
  // Open loop: only 201s answered within the offered window count as throughput.
  const createdInWindow = offered === null ? created : Math.min(created, result.inWindow.book ?? 0);
  const allocators = stats.after.map((after, i) => {
    const before = stats.before[i];
    if (!after || !before) return null;
    const batches = after.batches - before.batches;
    const commands = after.commands - before.commands;
    const statements = (after.commitStatements ?? 0) - (before.commitStatements ?? 0);
    return { batches, commands, meanBatch: batches ? round(commands / batches, 2) : 0, commitStatements: statements, commandsPerCommit: statements ? round(commands / statements, 2) : null };
  });
  return {
    phase: name,
    offeredPerSec: offered,
    seconds: round(result.seconds, 2),
    operations: result.outcomes,
    bookings: Object.values(book).reduce((a, b) => a + b, 0),
    created201: created,
    createdPerSec: round(createdInWindow / result.seconds),
    answeredAfterWindow: created - createdInWindow,
    bookStatuses: book,
    cancelStatuses: cancel,
    errors: result.errors,
    bookLatencyMs: percentiles(result.latencies.book ?? []),
    cancelLatencyMs: percentiles(result.latencies.cancel ?? []),
    allocators,
    cpuPercentOfOneCore: cpu,
  };
}

/** Tokens of the run's slots in PostgreSQL; polls until they reach `expected` or stop changing. */
async function durability(opts: Options, run: Setup, expected: { created: number; pending: number; unanswered: number; cancelled: number }, tokenIds: string[]) {
  const pg = new PgClient({ connectionString: opts.databaseUrl });
  await pg.connect();
  const ids = run.slots.map((s) => s.id);
  const count = async () => {
    const { rows } = await pg.query<{ total: string; cancelled: string; distinct_booked: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
              count(DISTINCT id) FILTER (WHERE id = ANY($2::text[])) AS distinct_booked
         FROM tokens WHERE slot_id = ANY($1::text[])`,
      [ids, tokenIds],
    );
    return { total: Number(rows[0].total), cancelled: Number(rows[0].cancelled), acknowledgedFound: Number(rows[0].distinct_booked) };
  };
  const want = expected.created + expected.pending;
  const t0 = Date.now();
  let last = await count();
  while ((last.total < want || last.cancelled < expected.cancelled) && Date.now() - t0 < 30_000) {
    await sleep(250);
    last = await count();
  }
  await pg.end();
  const postgresMs = Date.now() - t0;

  // Visible in the views: queued + waitlisted + being served, per slot, from the read model.
  const t1 = Date.now();
  let visible = 0;
  const active = last.total - last.cancelled;
  for (;;) {
    const counts = await mapLimit(run.slots, 32, async (slot: BenchSlot) => {
      const response = await call<{ queue: unknown[]; waitlist: unknown[]; nowServing: unknown[] }>(opts.url, 'GET', `/api/tokens/view/${slot.id}`);
      if (response.status !== 200) return 0;
      return response.body.queue.length + response.body.waitlist.length + response.body.nowServing.length;
    });
    visible = counts.reduce((a, b) => a + b, 0);
    if (visible === active || Date.now() - t1 > 20_000) break;
    await sleep(500);
  }
  // Requests that got no answer may or may not have been committed: allow that many extra.
  const match =
    last.acknowledgedFound === tokenIds.length &&
    last.total >= want &&
    last.total <= want + expected.unanswered &&
    last.cancelled === expected.cancelled &&
    visible === active;
  return {
    acknowledged201: expected.created,
    pending202: expected.pending,
    unanswered: expected.unanswered,
    acknowledgedCancels: expected.cancelled,
    tokensInPostgres: last.total,
    acknowledged201FoundInPostgres: last.acknowledgedFound,
    cancelledInPostgres: last.cancelled,
    activeInPostgres: active,
    activeVisibleInViews: visible,
    postgresSettledMs: postgresMs,
    viewsSettledMs: Date.now() - t1,
    match,
  };
}

/** Booking -> change on the slot's display stream, one booking at a time on an otherwise idle slot. */
async function streamLatency(url: string, run: Setup, samples: number, rng: ReturnType<typeof createRng>, ops: ReturnType<typeof operations>) {
  const slots = ops.roomiest(20);
  const streams = await Promise.all(slots.map((s) => openStream(url, `/api/slots/${s.id}/stream`, authHeaders())));
  const client = createClient(url, 4, authHeaders());
  const fromPost: number[] = [];
  const from201: number[] = [];
  let missed = 0;
  for (let i = 0; i < samples; i += 1) {
    const k = rng.int(slots.length);
    const stream = streams[k];
    const before = stream.version;
    const t0 = performance.now();
    const arrived = waitForVersion(stream, before + 1, 5000);
    const outcome = await client.send(ops.book(slots[k]), t0);
    if (outcome.status !== 201) {
      missed += 1;
      continue;
    }
    const at = await arrived;
    if (at === null) {
      missed += 1;
      continue;
    }
    ops.observe('book', outcome.status, outcome.body);
    fromPost.push(at - t0);
    from201.push(Math.max(0, at - (t0 + outcome.latencyMs)));
    await sleep(20);
  }
  for (const s of streams) s.close();
  await client.close();
  return { samples, missed, fromBookingSentMs: percentiles(fromPost), from201AnsweredMs: percentiles(from201) };
}

/** N streams on one slot, one booking: how long until every stream has the new version. */
async function fanOut(url: string, run: Setup, count: number, ops: ReturnType<typeof operations>) {
  const [slot] = ops.roomiest(1);
  const t0 = Date.now();
  const streams: StreamClient[] = [];
  await mapLimit(Array.from({ length: count }), 50, async () => {
    streams.push(await openStream(url, `/api/slots/${slot.id}/stream`, authHeaders()));
  });
  const openMs = Date.now() - t0;
  await sleep(500);
  const version = Math.max(...streams.map((s) => s.version));
  const client = createClient(url, 1, authHeaders());
  const sent = performance.now();
  const waits = streams.map((s) => waitForVersion(s, version + 1, 15_000));
  const outcome = await client.send(ops.book(slot), sent);
  const arrivals = await Promise.all(waits);
  for (const s of streams) s.close();
  await client.close();
  const got = arrivals.filter((a): a is number => a !== null).map((a) => a - sent);
  return {
    streams: count,
    openedInMs: openMs,
    bookingStatus: outcome.status,
    bookingLatencyMs: round(outcome.latencyMs),
    received: got.length,
    firstMs: got.length ? round(Math.min(...got)) : null,
    allMs: got.length === count ? round(Math.max(...got)) : null,
    latencyFromBookingSentMs: percentiles(got),
  };
}

async function viewLoad(name: string, base: string, run: Setup, seconds: number, connections: number, rng: ReturnType<typeof createRng>, procs: ReturnType<typeof findProcesses>) {
  const client = createClient(base, connections, authHeaders());
  const meter = cpuMeter(procs);
  let hits = 0;
  const result = await closedLoop(
    client,
    connections,
    seconds,
    () => ({ kind: 'view', method: 'GET', path: `/api/tokens/view/${run.slots[rng.int(run.slots.length)].id}` }),
    (o) => (hits += o.cache === 'HIT' ? 1 : 0),
  );
  const cpu = meter();
  await client.close();
  const statuses = result.statuses.view ?? {};
  const ok = statuses['200'] ?? 0;
  return { target: name, url: base, connections, seconds: round(result.seconds, 2), requestsPerSec: round(result.outcomes / result.seconds), ok200PerSec: round(ok / result.seconds), statuses, latencyMs: percentiles(result.latencies.view ?? []), cpuPercentOfOneCore: cpu, edgeCacheHitShare: round(hits / Math.max(1, result.outcomes), 3) };
}

async function prefill(url: string, run: Setup, perSlot: number, ops: ReturnType<typeof operations>) {
  const client = createClient(url, 32, authHeaders());
  const list = run.slots.flatMap((slot) => Array.from({ length: perSlot }, () => slot));
  await mapLimit(list, 32, async (slot) => {
    const o = await client.send(ops.book(slot), performance.now());
    ops.observe('book', o.status, o.body);
  });
  await client.close();
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (!(await isReady(opts.url))) {
    console.error(`${opts.url}/readyz is not ready: start the system with \`RATE_LIMIT_PER_SECOND=0 npm start\``);
    process.exit(1);
  }
  mkdirSync(path.dirname(opts.json), { recursive: true });
  mkdirSync(path.dirname(opts.svg), { recursive: true });
  mkdirSync(path.join(ROOT, '.cache', 'bench'), { recursive: true });
  const rng = createRng(opts.seed);
  const cpus = os.cpus();
  const machine = { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadAverageAtStart: os.loadavg().map((n) => round(n, 2)) };

  let scale: Awaited<ReturnType<typeof startScaleOut>> | null = null;
  if (opts.scaleOut) scale = await startScaleOut();
  const url = scale?.url ?? opts.url;
  const allocatorUrls = scale?.allocatorUrls ?? [opts.allocatorUrl];

  const report: Record<string, unknown> = {
    at: new Date().toISOString(),
    mode: opts.readsOnly ? 'reads' : opts.scaleOut ? 'scale-out' : 'full',
    options: { ...opts, databaseUrl: undefined },
    machine,
  };
  const summary: string[] = [];
  let exitCode = 0;
  try {
    // Enough slots that none fills: every planned booking, at most FILL_LIMIT of 30 on average.
    const expectedBookings =
      (opts.readsOnly ? 0 : opts.rates.reduce((a, r) => a + r * opts.duration, 0) + (opts.saturationConnections ? 4000 * opts.duration : 0)) +
      opts.viewsBookingRate * opts.duration;
    const slotCount = opts.slots ?? (opts.readsOnly ? 400 : Math.max(200, Math.ceil(expectedBookings / 20)));
    const run = await setup(url, rng, slotCount, log);
    const ops = operations(rng, run, opts.cancelShare);
    const procs = findProcesses(ROOT);
    report.processes = procs;

    const chart: ChartRow[] = [];
    const acknowledged = { created: 0, pending: 0, unanswered: 0, cancelled: 0 };
    const createdIds: string[] = [];
    const observe = (o: { op: { kind: string }; status: number; body: string }) => {
      ops.observe(o.op.kind, o.status, o.body);
      if (o.op.kind === 'book') {
        if (o.status === 201) {
          acknowledged.created += 1;
          const id = /"token":\{"id":"([^"]+)"/.exec(o.body)?.[1];
          if (id) createdIds.push(id);
        } else if (o.status === 202) acknowledged.pending += 1;
        else if (o.status === 0) acknowledged.unanswered += 1;
      } else if (o.op.kind === 'cancel' && o.status === 200) acknowledged.cancelled += 1;
    };

    if (!opts.readsOnly) {
      const phases: ReturnType<typeof bookingFigures>[] = [];
      const client = createClient(url, 512, authHeaders());
      for (const rate of opts.rates) {
        log(`booking: ${rate}/s offered (open loop) for ${opts.duration}s ...`);
        const before = await allocatorStats(allocatorUrls);
        const meter = cpuMeter(procs);
        const result = await openLoop(client, rate, opts.duration, () => ops.next(), observe);
        const cpu = meter();
        const figures = bookingFigures(`${rate}/s`, result, rate, { before, after: await allocatorStats(allocatorUrls) }, cpu);
        phases.push(figures);
        chart.push({ label: `${rate}/s`, achieved: figures.createdPerSec, ...figures.bookLatencyMs });
        log(`  ${figures.createdPerSec} 201/s; p50 ${figures.bookLatencyMs.p50} p95 ${figures.bookLatencyMs.p95} p99 ${figures.bookLatencyMs.p99} ms; ${JSON.stringify(figures.bookStatuses)}`);
        await sleep(1000);
      }
      if (opts.saturationConnections > 0) {
        log(`booking: saturation (closed loop, ${opts.saturationConnections} connections) for ${opts.duration}s ...`);
        const before = await allocatorStats(allocatorUrls);
        const meter = cpuMeter(procs);
        const result = await closedLoop(client, opts.saturationConnections, opts.duration, () => ops.next(), observe);
        const cpu = meter();
        const figures = bookingFigures('saturation', result, null, { before, after: await allocatorStats(allocatorUrls) }, cpu);
        phases.push(figures);
        chart.push({ label: `saturation (${opts.saturationConnections} conn)`, achieved: figures.createdPerSec, ...figures.bookLatencyMs });
        log(`  ${figures.createdPerSec} 201/s; p50 ${figures.bookLatencyMs.p50} p95 ${figures.bookLatencyMs.p95} p99 ${figures.bookLatencyMs.p99} ms; ${JSON.stringify(figures.bookStatuses)}`);
      }
      await client.close();
      report.booking = { phases, sources: ops.sourceCounts, slotsThatWouldHaveFilled: ops.plannedFull };

      log('durability: 201s vs PostgreSQL vs the views ...');
      const check = await durability({ ...opts, url }, run, acknowledged, createdIds);
      report.durability = check;
      if (!check.match) exitCode = 3;

      const best = phases.reduce((a, b) => (b.createdPerSec > a.createdPerSec ? b : a));
      const at500 = phases.find((p) => p.offeredPerSec === 500);
      summary.push(`bookings   sustained ${best.createdPerSec} 201/s end to end (${best.phase}); target >= 3000/s: ${best.createdPerSec >= 3000 ? 'MET' : 'NOT MET'}`);
      for (const p of phases) {
        summary.push(`           ${p.phase.padEnd(11)} ${String(p.createdPerSec).padStart(7)} 201/s${p.answeredAfterWindow ? ` (+${p.answeredAfterWindow} answered late)` : ''}  p50 ${p.bookLatencyMs.p50}  p95 ${p.bookLatencyMs.p95}  p99 ${p.bookLatencyMs.p99} ms  statuses ${JSON.stringify(p.bookStatuses)}${p.allocators.some((a) => a) ? `  cmds/batch ${p.allocators.map((a) => a?.meanBatch ?? '?').join('/')}, cmds/PG commit ${p.allocators.map((a) => a?.commandsPerCommit ?? '?').join('/')}` : ''}`);
      }
      if (at500) summary.push(`           p99 at 500/s: ${at500.bookLatencyMs.p99} ms; target < 50 ms: ${at500.bookLatencyMs.p99 < 50 ? 'MET' : 'NOT MET'}`);
      summary.push(
        `durability ${check.acknowledged201} 201s (+${check.pending202} 202s, ${check.unanswered} unanswered), ${check.acknowledgedCancels} cancels -> PostgreSQL ${check.tokensInPostgres} tokens (${check.acknowledged201FoundInPostgres} of the 201s), ${check.cancelledInPostgres} cancelled; ${check.activeVisibleInViews} of ${check.activeInPostgres} active visible in views: ${check.match ? 'MATCH' : 'MISMATCH'}`,
      );
    } else {
      log('prefill: 5 bookings per slot ...');
      await prefill(url, run, 5, ops);
    }

    if (!opts.scaleOut) {
      log('streams: booking -> change on the slot stream ...');
      const latency = await streamLatency(url, run, 100, rng, ops);
      report.streamLatency = latency;
      summary.push(`stream     booking -> SSE event: p50 ${latency.fromBookingSentMs.p50}  p95 ${latency.fromBookingSentMs.p95}  p99 ${latency.fromBookingSentMs.p99} ms (from the 201: p50 ${latency.from201AnsweredMs.p50}, p99 ${latency.from201AnsweredMs.p99} ms; ${latency.missed} missed of ${latency.samples})`);

      const views = [] as Awaited<ReturnType<typeof viewLoad>>[];
      const viewTargets: [string, string, number][] = [
        ['edge', url, 0],
        ['query service', opts.queryUrl, 0],
      ];
      // Cached views are only as good as their hit share while slots change: read while booking.
      if (opts.viewsBookingRate > 0) viewTargets.push([`edge, ${opts.viewsBookingRate} bookings/s`, url, opts.viewsBookingRate]);
      for (const [name, base, bookingRate] of viewTargets) {
        log(`views: GET /api/tokens/view/{slot} via ${name} for ${opts.duration}s at ${opts.viewConnections} connections ...`);
        const bookingClient = bookingRate > 0 ? createClient(url, 64, authHeaders()) : null;
        const writes = bookingClient ? openLoop(bookingClient, bookingRate, opts.duration, () => ops.next(), observe) : null;
        const v = await viewLoad(name, base, run, opts.duration, opts.viewConnections, rng, procs);
        if (writes && bookingClient) {
          const result = await writes;
          await bookingClient.close();
          Object.assign(v, { bookingsDuring: { offeredPerSec: bookingRate, statuses: result.statuses.book ?? {}, latencyMs: percentiles(result.latencies.book ?? []) } });
        }
        views.push(v);
        summary.push(`views      ${name.padEnd(13)} ${v.requestsPerSec} req/s, p50 ${v.latencyMs.p50}  p99 ${v.latencyMs.p99} ms${v.edgeCacheHitShare > 0 ? ` (${Math.round(v.edgeCacheHitShare * 100)}% from the edge's view cache)` : ''}; target >= 15000/s, p99 < 10 ms: ${v.requestsPerSec >= 15000 && v.latencyMs.p99 < 10 ? 'MET' : 'NOT MET'}`);
        await sleep(1000);
      }
      report.views = views;

      if (opts.streams > 0) {
        log(`streams: ${opts.streams} open streams on one slot, one booking ...`);
        try {
          const f = await fanOut(url, run, opts.streams, ops);
          report.fanOut = f;
          summary.push(`fan-out    ${f.streams} streams (opened in ${f.openedInMs} ms): booking answered ${f.bookingStatus} in ${f.bookingLatencyMs} ms; ${f.received} got the change, first ${f.firstMs} ms, all ${f.allMs ?? 'NOT ALL'} ms after the booking was sent`);
        } catch (err) {
          report.fanOut = { error: (err as Error).message };
          summary.push(`fan-out    failed: ${(err as Error).message}`);
        }
      }
    }

    if (scale) report.allocatorStats = await allocatorStats(allocatorUrls);
    const rss = findProcesses(ROOT)
      .filter((p) => !['postgres', 'redis', 'kafka'].includes(p.name))
      .map((p) => ({ ...p, peakRssMb: peakRssMb(p.pid) }));
    report.peakRss = rss;
    if (rss.length === 0) summary.push(`peak RSS   no service processes of this checkout found (${ROOT})`);
    else summary.push(`peak RSS   ${rss.map((p) => `${p.name}#${p.pid} ${p.peakRssMb} MB`).join(', ')}; target < 150 MB each: ${rss.every((p) => (p.peakRssMb ?? 0) < 150) ? 'MET' : 'NOT MET'}`);

    if (chart.length) {
      const title = `OPD booking latency (${opts.scaleOut ? 'scale-out: 2 allocators, 2 gateways' : '1 allocator, 1 gateway'}), ${machine.cpus} CPUs`;
      const subtitle = `${run.slots.length} slots, capacity 20..40, seed ${opts.seed}, ${opts.duration}s per phase, ${Math.round(opts.cancelShare * 100)}% cancels, ${report.at}`;
      writeFileSync(opts.svg, latencyChart(chart, title, subtitle, { at: '500/s', ms: 50 }));
      report.chart = opts.svg;
    }
  } finally {
    if (scale) await scale.stop();
  }
  writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');

  console.log('');
  console.log(`OPD bench (${report.mode}) at ${url}: ${machine.cpus} CPUs (${machine.cpuModel}), load average at start ${machine.loadAverageAtStart.join(' ')}`);
  for (const line of summary) console.log(line);
  console.log(`figures: ${opts.json}${report.chart ? `; chart: ${opts.svg}` : ''}`);
  process.exit(exitCode);
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
