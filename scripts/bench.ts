/**
 * `npm run bench`: books through the edge for a fixed time at a given concurrency, then checks
 * that every accepted booking is in the store, then hammers the waiting-room view.
 *
 *   npm run bench -- [--url http://127.0.0.1:8080] [--duration 15] [--connections 64]
 *                    [--slots 200] [--capacity 1000] [--seed 1] [--reads] [--json out.json]
 *
 * It is a script, not a test: it needs the whole system running (`npm start`) and it only talks
 * to the public HTTP contract (docs: /work/shared/api-contract.md), plus the allocator's
 * best-effort /stats for batch sizes. See docs/performance.md for figures and how to read them.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { call, errorCode, isReady, mapLimit, sleep } from './bench/api';
import { autocannon, type AutocannonResult } from './bench/autocannon';
import { createRng, type Rng } from './bench/prng';
import { authHeaders } from './lib/api-key';

const SOURCES = [
  ['ONLINE', 40],
  ['WALK_IN', 35],
  ['FOLLOW_UP', 10],
  ['PAID_PRIORITY', 8],
  ['EMERGENCY', 7],
] as const;
type Source = (typeof SOURCES)[number][0];

const BRANCHES = 3;
const DOCTORS_PER_BRANCH = 2;
const SLOT_LENGTH_MS = 2 * 60 * 60 * 1000;

interface Options {
  url: string;
  allocatorUrl: string;
  duration: number;
  connections: number;
  slots: number;
  capacity: number;
  seed: number;
  readsOnly: boolean;
  prefill: number;
  json?: string;
}

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(`usage: npm run bench -- [--url URL] [--duration S] [--connections N] [--slots N] [--capacity N]
                        [--seed N] [--reads [--prefill N]] [--json FILE] [--allocator-url URL]
  --url            edge base URL (default $OPD_URL or http://127.0.0.1:8080)
  --duration       seconds per phase (default 15)
  --connections    concurrent HTTP connections (default 64)
  --slots          slots to create and book into (default 200)
  --capacity       capacity of each slot (default 1000; keep it high so bookings are accepted)
  --seed           workload seed (default 1)
  --reads          run only the view benchmark (slots are pre-filled with --prefill bookings each, default 5)
  --json FILE      also write the figures as JSON to FILE
  --allocator-url  allocator base URL for /stats (default $ALLOCATOR_URL or http://127.0.0.1:3003; best effort)`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        'allocator-url': { type: 'string' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        slots: { type: 'string' },
        capacity: { type: 'string' },
        seed: { type: 'string' },
        reads: { type: 'boolean' },
        prefill: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) usage();
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    url: (v.url ?? process.env.OPD_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    allocatorUrl: (v['allocator-url'] ?? process.env.ALLOCATOR_URL ?? 'http://127.0.0.1:3003').replace(/\/+$/, ''),
    duration: int('duration', v.duration, 15, 1),
    connections: int('connections', v.connections, 64, 1),
    slots: int('slots', v.slots, 200, 1),
    capacity: int('capacity', v.capacity, 1000, 1),
    seed: int('seed', v.seed, 1, 0),
    readsOnly: v.reads ?? false,
    prefill: int('prefill', v.prefill, 5, 0),
    json: v.json,
  };
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

interface BenchSlot {
  id: string;
  doctorId: string;
}

async function setup(opts: Options): Promise<{ doctors: string[]; slots: BenchSlot[] }> {
  const doctors: string[] = [];
  for (let b = 1; b <= BRANCHES; b += 1) {
    for (let d = 1; d <= DOCTORS_PER_BRANCH; d += 1) {
      const response = await call(opts.url, 'POST', '/api/doctors', {
        branchId: `bench-branch-${b}`,
        name: `Bench Doctor ${b}.${d}`,
        department: 'General Medicine',
      });
      if (response.status !== 201 && response.status !== 200) throw new Error(`POST /api/doctors -> ${response.status} ${JSON.stringify(response.body)}`);
      doctors.push(response.body.doctor.id);
    }
  }
  const start = new Date();
  const end = new Date(start.getTime() + SLOT_LENGTH_MS);
  const slots = await mapLimit(
    Array.from({ length: opts.slots }, (_, i) => doctors[i % doctors.length]),
    16,
    async (doctorId): Promise<BenchSlot> => {
      const response = await call(opts.url, 'POST', '/api/slots', {
        doctorId,
        start: start.toISOString(),
        end: end.toISOString(),
        capacity: opts.capacity,
      });
      if (response.status !== 201 && response.status !== 202) throw new Error(`POST /api/slots -> ${response.status} ${JSON.stringify(response.body)}`);
      return { id: response.body.slot.id, doctorId };
    },
  );
  // A 202 (allocator slow) means the slot is not there yet: wait until every slot can be read.
  await mapLimit(slots, 16, async (slot) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await call(opts.url, 'GET', `/api/slots/${slot.id}`);
      if (response.status === 200) return;
      if (Date.now() > deadline) throw new Error(`slot ${slot.id} not readable: ${response.status}`);
      await sleep(100);
    }
  });
  return { doctors, slots };
}

// ---------------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------------

interface BookBody {
  slotId: string;
  source: Source;
  patient: { name: string; phone: string };
}

/** Unique phone per request, so DUPLICATE_BOOKING never happens (slots are fresh every run). */
function bookingFactory(rng: Rng, slots: BenchSlot[]) {
  let counter = 0;
  const sourceCounts: Record<string, number> = {};
  return {
    sourceCounts,
    next(): BookBody {
      counter += 1;
      const source = rng.weighted(SOURCES);
      sourceCounts[source] = (sourceCounts[source] ?? 0) + 1;
      return {
        slotId: slots[rng.int(slots.length)].id,
        source,
        patient: { name: `Bench Patient ${counter}`, phone: `+91-${String(counter).padStart(10, '0')}` },
      };
    },
  };
}

interface AllocatorStats {
  batches: number;
  commands: number;
  fenced: number;
}

async function allocatorStats(opts: Options): Promise<AllocatorStats | null> {
  try {
    const response = await call<AllocatorStats>(opts.allocatorUrl, 'GET', '/stats', undefined, 2000);
    return response.status === 200 && typeof response.body?.batches === 'number' ? response.body : null;
  } catch {
    return null;
  }
}

function latencyOf(result: AutocannonResult) {
  const l = result.latency;
  return { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max };
}

function statusesOf(result: AutocannonResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) out[code] = count;
  return out;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Booking phase
// ---------------------------------------------------------------------------------------------

async function bookingPhase(opts: Options, rng: Rng, slots: BenchSlot[]) {
  const factory = bookingFactory(rng, slots);
  /** Bodies sent whose response has not arrived (keyed by the unique phone). */
  const unanswered = new Map<string, BookBody>();
  const before = await allocatorStats(opts);

  console.log(`booking: POST /api/tokens/book for ${opts.duration}s at ${opts.connections} connections ...`);
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    // The gateway answers 202 after its reply timeout (5 s by default); never cut it short.
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/api/tokens/book',
        headers: { 'content-type': 'application/json', ...authHeaders() },
        setupRequest: (request, context) => {
          const body = factory.next();
          context.phone = body.patient.phone;
          unanswered.set(body.patient.phone, body);
          return { ...request, body: JSON.stringify(body) };
        },
        onResponse: (_status, _body, context) => {
          unanswered.delete(context.phone as string);
        },
      },
    ],
  });
  const after = await allocatorStats(opts);

  const statuses = statusesOf(result);
  const seconds = result.duration;
  const created = statuses['201'] ?? 0;
  const pending = statuses['202'] ?? 0;
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  const non2xx: Record<string, number> = {};
  for (const [code, count] of Object.entries(statuses)) if (!code.startsWith('2')) non2xx[code] = count;

  let allocator: { batches: number; commands: number; meanBatch: number } | null = null;
  if (before && after) {
    const batches = after.batches - before.batches;
    const commands = after.commands - before.commands;
    allocator = { batches, commands, meanBatch: batches > 0 ? round(commands / batches, 2) : 0 };
  }
  return {
    unanswered,
    sourceCounts: factory.sourceCounts,
    figures: {
      seconds: round(seconds, 2),
      requests: completed,
      requestsPerSec: round(completed / seconds),
      created201: created,
      acceptedPerSec: round(created / seconds),
      pending202: pending,
      non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyMs: latencyOf(result),
      allocator,
    },
  };
}

/**
 * Requests still in flight when autocannon stopped (or timed out) got no answer, yet may have
 * been committed. Sending the very same body again tells which: the slot's partition is ordered,
 * so a committed original makes the retry a 409 DUPLICATE_BOOKING; otherwise the retry books it.
 */
async function resolveUnanswered(opts: Options, unanswered: Map<string, BookBody>) {
  const outcome = { unanswered: unanswered.size, committed: 0, bookedByRetry: 0, pendingByRetry: 0, other: {} as Record<string, number> };
  if (unanswered.size === 0) return outcome;
  await sleep(1000);
  await mapLimit([...unanswered.values()], 8, async (body) => {
    const response = await call(opts.url, 'POST', '/api/tokens/book', body, 30_000);
    if (response.status === 409 && errorCode(response.body) === 'DUPLICATE_BOOKING') outcome.committed += 1;
    else if (response.status === 201) outcome.bookedByRetry += 1;
    else if (response.status === 202) outcome.pendingByRetry += 1;
    else outcome.other[response.status] = (outcome.other[response.status] ?? 0) + 1;
  });
  return outcome;
}

/** Sum of activeCount over the bench's slots, as served by GET /api/slots?doctorId=. */
async function countTokens(opts: Options, doctors: string[], slotIds: Set<string>): Promise<number> {
  let total = 0;
  for (const doctorId of doctors) {
    const response = await call<{ slots: { id: string; activeCount: number }[] }>(opts.url, 'GET', `/api/slots?doctorId=${encodeURIComponent(doctorId)}`);
    if (response.status !== 200) throw new Error(`GET /api/slots?doctorId=${doctorId} -> ${response.status}`);
    for (const slot of response.body.slots) if (slotIds.has(slot.id)) total += slot.activeCount;
  }
  return total;
}

/** Polls until the count reaches `expected`, or stops changing for 5 s (60 s at most). */
async function settledCount(opts: Options, doctors: string[], slots: BenchSlot[], expected: number) {
  const ids = new Set(slots.map((s) => s.id));
  const started = Date.now();
  let last = await countTokens(opts, doctors, ids);
  let lastChange = Date.now();
  while (last !== expected && Date.now() - lastChange < 5000 && Date.now() - started < 60_000) {
    await sleep(250);
    const now = await countTokens(opts, doctors, ids);
    if (now !== last) lastChange = Date.now();
    last = now;
  }
  return { tokens: last, waitedMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// View phase
// ---------------------------------------------------------------------------------------------

async function viewPhase(opts: Options, rng: Rng, slots: BenchSlot[]) {
  console.log(`view: GET /api/tokens/view/{slot} for ${opts.duration}s at ${opts.connections} connections ...`);
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    requests: [
      {
        method: 'GET',
        headers: authHeaders(),
        path: `/api/tokens/view/${slots[0].id}`,
        setupRequest: (request) => ({ ...request, path: `/api/tokens/view/${slots[rng.int(slots.length)].id}` }),
      },
    ],
  });
  const statuses = statusesOf(result);
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = statuses['200'] ?? 0;
  return {
    seconds: round(result.duration, 2),
    requests: completed,
    requestsPerSec: round(completed / result.duration),
    ok200PerSec: round(ok / result.duration),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: latencyOf(result),
  };
}

/** For --reads: a few bookings per slot so the views have queues to render. */
async function prefill(opts: Options, rng: Rng, slots: BenchSlot[]) {
  if (opts.prefill === 0) return 0;
  const factory = bookingFactory(rng, slots);
  const bodies: BookBody[] = [];
  for (const slot of slots) for (let i = 0; i < opts.prefill; i += 1) bodies.push({ ...factory.next(), slotId: slot.id });
  const statuses = await mapLimit(bodies, 16, async (body) => (await call(opts.url, 'POST', '/api/tokens/book', body, 30_000)).status);
  return statuses.filter((s) => s === 201 || s === 202).length;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (!(await isReady(opts.url))) {
    console.error(`${opts.url}/readyz is not ready: start the system with \`npm start\``);
    process.exit(1);
  }
  const rng = createRng(opts.seed);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };

  const t0 = Date.now();
  const { doctors, slots } = await setup(opts);
  console.log(`setup: ${doctors.length} doctors in ${BRANCHES} branches, ${slots.length} slots (capacity ${opts.capacity}, 2 h from now) in ${Date.now() - t0} ms`);

  const report: Record<string, unknown> = {
    at: new Date().toISOString(),
    options: { url: opts.url, duration: opts.duration, connections: opts.connections, slots: opts.slots, capacity: opts.capacity, seed: opts.seed, readsOnly: opts.readsOnly },
    machine,
  };

  let bookingLines: string[] = [];
  if (!opts.readsOnly) {
    const booking = await bookingPhase(opts, rng, slots);
    const b = booking.figures;
    const resolved = await resolveUnanswered(opts, booking.unanswered);
    const expected = b.created201 + b.pending202 + resolved.committed + resolved.bookedByRetry + resolved.pendingByRetry;
    const { tokens, waitedMs } = await settledCount(opts, doctors, slots, expected);
    const durability = { created201: b.created201, pending202: b.pending202, inFlightAtStop: resolved, expectedTokens: expected, tokensInStore: tokens, match: tokens === expected, settleWaitMs: waitedMs };
    report.booking = { ...b, sources: booking.sourceCounts };
    report.durability = durability;

    const l = b.latencyMs;
    bookingLines = [
      `booking   ${b.requestsPerSec} req/s, ${b.acceptedPerSec} accepted/s (201, committed end to end) over ${b.seconds}s`,
      `          latency ms p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}  (mean ${l.mean})`,
      `          201: ${b.created201}  202 (pending): ${b.pending202}  non-2xx: ${Object.keys(b.non2xx).length ? JSON.stringify(b.non2xx) : 'none'}  errors: ${b.errors} (timeouts ${b.timeouts})`,
      b.allocator
        ? `          allocator: ${b.allocator.commands} commands in ${b.allocator.batches} batches (mean ${b.allocator.meanBatch} per batch)`
        : `          allocator: /stats not reachable at ${opts.allocatorUrl}`,
      `durability tokens in store (sum of activeCount): ${tokens}; 201s: ${b.created201}` +
        (b.pending202 ? ` + 202s: ${b.pending202}` : '') +
        (resolved.unanswered ? ` + in flight at stop: ${resolved.committed} committed, ${resolved.bookedByRetry + resolved.pendingByRetry} booked by the check (of ${resolved.unanswered} unanswered)` : '') +
        ` => expected ${expected}: ${tokens === expected ? 'MATCH' : 'MISMATCH'} (read model settled in ${waitedMs} ms)`,
    ];
    if (tokens !== expected) {
      console.warn(`WARNING: durability mismatch: ${tokens} tokens in the store, ${expected} acknowledged (${tokens - expected > 0 ? 'more' : 'fewer'} than acknowledged)`);
    }
  } else {
    const t1 = Date.now();
    const booked = await prefill(opts, rng, slots);
    console.log(`prefill: ${booked} bookings (${opts.prefill} per slot) in ${Date.now() - t1} ms`);
  }

  const view = await viewPhase(opts, rng, slots);
  report.view = view;

  console.log('');
  console.log(`OPD bench: ${opts.url}, ${opts.connections} connections, ${opts.duration}s per phase, ${opts.slots} slots, seed ${opts.seed}, ${machine.cpus} CPUs (${machine.cpuModel})`);
  for (const line of bookingLines) console.log(line);
  const vl = view.latencyMs;
  console.log(`view      ${view.requestsPerSec} req/s (${view.ok200PerSec} 200/s) over ${view.seconds}s; latency ms p50 ${vl.p50}  p99 ${vl.p99}  max ${vl.max}` + (Object.keys(view.statuses).some((s) => s !== '200') ? `  statuses ${JSON.stringify(view.statuses)}` : ''));

  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`figures written to ${opts.json}`);
  }
  const durability = report.durability as { match: boolean } | undefined;
  process.exit(durability && !durability.match ? 3 : 0);
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
