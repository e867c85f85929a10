/**
 * A chaos run: starts its own system as child processes (two allocators, the query service, the
 * booking gateway and the edge, each on a free port, with a topic and Redis key prefix of its own),
 * drives bookings and cancellations over HTTP for a bounded time while it SIGKILLs and restarts
 * allocators, deletes the run's Redis keys and (optionally) restarts the Kafka broker, then checks
 * PostgreSQL and the API against every answer the clients got. See checks.ts for the invariants.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { migrate } from '@opd/shared';
import { checkPostgres, checkTokenReads, checkViews, emptyCounts, follow202s, type CheckCounts, type CheckInput } from './checks';
import { answerLabel, send, sleep } from './http';
import { LoadDriver, type SeedSlot } from './load';
import { REPO_ROOT, Supervisor, freePorts, type ExitInfo, type ServiceSpec } from './processes';

export interface ChaosOptions {
  /** How long the load runs (longer while a broker restart is still in progress). */
  durationMs: number;
  /** Restart the Kafka broker during the load. Never in the test suite: the broker is shared. */
  restartBroker: boolean;
  /** Restart PostgreSQL during the load (the machine's cluster: never in the test suite). */
  restartPostgres?: boolean;
  /** Where the timeline goes; console.log by default. */
  log?: (line: string) => void;
  /** Concurrent HTTP clients. */
  concurrency?: number;
  databaseUrl?: string;
  redisUrl?: string;
  kafkaBrokers?: string;
  partitions?: number;
  replyTimeoutMs?: number;
  /** How long the system may take to become ready. */
  readyTimeoutMs?: number;
  /** How long, after the load, every command may take to be applied. */
  settleTimeoutMs?: number;
  /** Child logs; default .cache/chaos/<run>/. */
  logDir?: string;
  /**
   * How long a SIGKILLed allocator stays down before it is started again (default 1 s, as a
   * process supervisor would). Above the consumer session timeout (10 s) the group has already
   * dropped the dead member when the new one joins.
   */
  allocatorRestartDelayMs?: number;
}

export type FaultKind =
  | 'allocator-kill'
  | 'allocator-restart'
  | 'redis-flush'
  | 'broker-stop'
  | 'broker-start'
  | 'postgres-restart'
  | 'service-died'
  | 'service-restart';

export interface ChaosFault {
  /** Milliseconds since the load started (negative: before it). */
  atMs: number;
  kind: FaultKind;
  detail: string;
}

export interface ChaosReport {
  runId: string;
  prefix: string;
  logDir: string;
  ready: boolean;
  loadMs: number;
  slots: number;
  faults: ChaosFault[];
  requests: {
    bookings: number;
    cancellations: number;
    reads: number;
    /** Every answer to a booking (retries included), by status and error code. */
    bookingAnswers: Record<string, number>;
    cancellationAnswers: Record<string, number>;
    readAnswers: Record<string, number>;
  };
  counts: CheckCounts;
  violations: string[];
}

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/opd_test';

const tally = (labels: string[]) => labels.reduce<Record<string, number>>((acc, l) => ((acc[l] = (acc[l] ?? 0) + 1), acc), {});

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function runScript(script: string, logFile: string): Promise<number> {
  return new Promise((resolve) => {
    appendFileSync(logFile, `--- ${new Date().toISOString()} bash ${script}\n`);
    const child = spawn('bash', [script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => appendFileSync(logFile, chunk));
    child.stderr.on('data', (chunk) => appendFileSync(logFile, chunk));
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<{ ok: boolean; last: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const answer = await send(url, 'GET', '/readyz', undefined, {}, 3000);
    if (answer.status === 200) return { ok: true, last: '200' };
    last = `${answerLabel(answer)} ${answer.body ? JSON.stringify(answer.body?.error?.details ?? answer.body) : ''}`.trim();
    if (Date.now() > deadline) return { ok: false, last };
    await sleep(300);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const runId = randomBytes(4).toString('hex');
  const prefix = `chaos-${runId}.`;
  const logDir = options.logDir ?? path.join(REPO_ROOT, '.cache', 'chaos', `chaos-${runId}`);
  const databaseUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const kafkaBrokers = options.kafkaBrokers ?? process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const concurrency = options.concurrency ?? 8;
  const started = Date.now();
  let loadStart = 0;
  const since = () => Date.now() - (loadStart || started);
  const stamp = () => `${loadStart ? '+' : 'setup +'}${(since() / 1000).toFixed(1)}s`;

  const report: ChaosReport = {
    runId,
    prefix,
    logDir,
    ready: false,
    loadMs: 0,
    slots: 0,
    faults: [],
    requests: { bookings: 0, cancellations: 0, reads: 0, bookingAnswers: {}, cancellationAnswers: {}, readAnswers: {} },
    counts: emptyCounts(),
    violations: [],
  };
  const violate = (message: string) => {
    report.violations.push(message);
    if (report.violations.length <= 40) log(`  VIOLATION: ${message}`);
    else if (report.violations.length === 41) log('  (more violations: see the report)');
  };
  const fault = (kind: FaultKind, detail: string) => {
    report.faults.push({ atMs: loadStart ? Date.now() - loadStart : -(Date.now() - started), kind, detail });
    log(`[${stamp()}] ${detail}`);
  };

  const [allocatorPort1, allocatorPort2, queryPort, bookingPort, edgePort] = await freePorts(5);
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const edge = url(edgePort);
  const common: Record<string, string> = {
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_PARTITIONS: String(options.partitions ?? 4),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    REPLY_TIMEOUT_MS: String(options.replyTimeoutMs ?? 3000),
    TIME_ZONE: 'UTC',
    // Chaos tests faults, not access: keys are switched off for its own processes, explicitly.
    AUTH: 'off',
    EDGE_PORT: String(edgePort),
    BOOKING_PORT: String(bookingPort),
    QUERY_PORT: String(queryPort),
    ALLOCATOR_PORT: String(allocatorPort1),
    BOOKING_URL: url(bookingPort),
    QUERY_URL: url(queryPort),
    ALLOCATOR_URL: url(allocatorPort1),
  };
  const specs = new Map<string, ServiceSpec>();
  const define = (name: string, service: ServiceSpec['service'], port: number, extra: Record<string, string>) =>
    specs.set(name, { name, service, port, env: { ...common, ...extra } });
  define('allocator-1', 'allocator', allocatorPort1, { ALLOCATOR_PORT: String(allocatorPort1), INSTANCE_ID: `${prefix}alloc-1` });
  define('allocator-2', 'allocator', allocatorPort2, { ALLOCATOR_PORT: String(allocatorPort2), INSTANCE_ID: `${prefix}alloc-2` });
  define('query', 'query', queryPort, { INSTANCE_ID: `${prefix}query` });
  define('booking', 'booking', bookingPort, { INSTANCE_ID: `${prefix}booking` });
  define('edge', 'edge', edgePort, {});

  let stopping = false;
  /** Broker outages: [stop began, broker ready again (or Infinity while it is away)]. */
  const brokerOutages: [number, number][] = [];
  /** Started while the broker was away: start-up fails fast (exit 1) by design, and is restarted. */
  const startedInOutage = (exit: ExitInfo) =>
    brokerOutages.some(([from, to]) => exit.startedAt >= from && exit.startedAt <= to && Date.now() <= to + 15_000);
  // A service that dies is restarted like a supervisor would: after 1 s, then 2, 4, 8, 16 (per service).
  const deaths = new Map<string, number>();
  const supervisor = new Supervisor(logDir, process.env, (exit, spec) => {
    const count = (deaths.get(spec.name) ?? 0) + 1;
    deaths.set(spec.name, count);
    const delay = Math.min(16_000, 1000 * 2 ** (count - 1));
    const logTail = tail(supervisor.logFile(spec.name), 3)
      .split('\n')
      .map((line) => `      ${line.length > 400 ? `${line.slice(0, 400)}...` : line}`)
      .join('\n');
    if (startedInOutage(exit)) {
      fault('service-died', `${spec.name} (pid ${exit.pid}) started while the broker was away and exited ${exit.code} (fails fast at start-up); restarting in ${delay / 1000} s`);
    } else {
      fault('service-died', `${spec.name} died unexpectedly (pid ${exit.pid}, code ${exit.code}, signal ${exit.signal}); restarting in ${delay / 1000} s`);
      violate(`service ${spec.name} died (pid ${exit.pid}, code ${exit.code}, signal ${exit.signal}); see ${supervisor.logFile(spec.name)}:\n${logTail}`);
    }
    setTimeout(() => {
      if (stopping) return;
      const pid = supervisor.start(specs.get(spec.name) ?? spec);
      fault('service-restart', `restarted ${spec.name} (pid ${pid})`);
    }, delay);
  });
  const startService = (name: string) => supervisor.start(specs.get(name)!);

  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const kafka = new Kafka({ clientId: `${prefix}chaos`, brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const topics = { commands: `${prefix}opd.commands`, replies: `${prefix}opd.replies`, events: `${prefix}opd.events` };

  async function deleteRunKeys(): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  try {
    log(`chaos run ${runId}: prefix ${prefix}, database ${databaseUrl}, Kafka ${kafkaBrokers}, logs ${path.relative(process.cwd(), logDir) || logDir}`);
    await migrate({ databaseUrl });

    // --- the system ---------------------------------------------------------------------------
    for (const name of ['allocator-1', 'allocator-2']) {
      const pid = startService(name);
      log(`[${stamp()}] started ${name} (pid ${pid}, INSTANCE_ID ${specs.get(name)!.env.INSTANCE_ID}, port ${specs.get(name)!.port})`);
    }
    // The allocators create the topics; the others subscribe to them.
    await waitReady(url(allocatorPort1), options.readyTimeoutMs ?? 120_000);
    for (const name of ['query', 'booking', 'edge']) {
      const pid = startService(name);
      log(`[${stamp()}] started ${name} (pid ${pid}, port ${specs.get(name)!.port})`);
    }
    const ready = await waitReady(edge, options.readyTimeoutMs ?? 120_000);
    if (!ready.ok) {
      violate(`the system never became ready (edge /readyz: ${ready.last})`);
      return report;
    }
    report.ready = true;
    log(`[${stamp()}] ready: edge ${edge}`);

    // --- doctors and slots, through the API ------------------------------------------------------
    const slots: SeedSlot[] = [];
    const dayStart = Date.now();
    for (let d = 0; d < 4; d += 1) {
      const doctor = await send(edge, 'POST', '/api/doctors', { branchId: `chaos-${runId}`, name: `Dr. Chaos ${runId}-${d + 1}` });
      if (doctor.status !== 201) throw new Error(`creating a doctor answered ${answerLabel(doctor)}`);
      for (let s = 0; s < 3; s += 1) {
        const start = dayStart + s * 3_600_000;
        const capacity = s < 2 ? 3 + Math.floor(Math.random() * 6) : 12 + Math.floor(Math.random() * 9);
        const body = { doctorId: doctor.body.doctor.id, start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), capacity };
        const slot = await send(edge, 'POST', '/api/slots', body);
        if (slot.status !== 201 && slot.status !== 202) throw new Error(`creating a slot answered ${answerLabel(slot)}`);
        if (slot.status === 202) {
          const deadline = Date.now() + 30_000;
          while ((await send(edge, 'GET', `/api/slots/${slot.body.slot.id}`)).status !== 200) {
            if (Date.now() > deadline) throw new Error(`slot ${slot.body.slot.id} (202) never appeared`);
            await sleep(250);
          }
        }
        slots.push({ slotId: slot.body.slot.id, doctorId: doctor.body.doctor.id, capacity });
      }
    }
    report.slots = slots.length;
    log(`[${stamp()}] created 4 doctors, ${slots.length} slots (capacities ${slots.map((s) => s.capacity).join(', ')})`);

    // --- load and faults ------------------------------------------------------------------------
    const driver = new LoadDriver(edge, `${runId}`, slots);
    const duration = options.durationMs;
    let brokerBusy = false;
    let brokerDoneAt = 0;
    let brokerRestart: Promise<void> = Promise.resolve();
    loadStart = Date.now();
    log(`[${stamp()}] load: ${concurrency} clients for ${(duration / 1000).toFixed(0)} s through ${edge}`);
    const loadEnd = () => {
      const now = Date.now();
      if (now < loadStart + duration) return false;
      // Keep the load going while the broker is away, and a little after it is back.
      if (brokerBusy || now < brokerDoneAt + 3000) return now > loadStart + duration + 90_000;
      return true;
    };

    const killAllocator = async (name: string, newInstanceId: boolean) => {
      const spec = specs.get(name)!;
      const pid = supervisor.pid(name);
      if (pid === undefined) return;
      const exit = supervisor.kill(name, 'SIGKILL');
      fault('allocator-kill', `SIGKILL ${name} (pid ${pid}, INSTANCE_ID ${spec.env.INSTANCE_ID})`);
      await exit;
      await sleep(options.allocatorRestartDelayMs ?? 1000);
      if (newInstanceId) specs.set(name, { ...spec, env: { ...spec.env, INSTANCE_ID: `${spec.env.INSTANCE_ID}-r${Date.now() % 100000}` } });
      const newPid = startService(name);
      fault('allocator-restart', `restarted ${name} (pid ${newPid}, INSTANCE_ID ${specs.get(name)!.env.INSTANCE_ID}${newInstanceId ? ', a new one' : ', the same'})`);
    };
    const flushRedis = async () => {
      const deleted = await deleteRunKeys();
      fault('redis-flush', `deleted the run's Redis keys (${prefix}*): ${deleted} keys`);
    };
    const restartTheBroker = async () => {
      brokerBusy = true;
      const outage: [number, number] = [Date.now(), Infinity];
      brokerOutages.push(outage);
      const kafkaLog = path.join(logDir, 'kafka-restart.log');
      try {
        fault('broker-stop', 'stopping the Kafka broker (bash scripts/kafka/stop.sh)');
        const stopped = await runScript('scripts/kafka/stop.sh', kafkaLog);
        fault('broker-stop', `broker stopped (exit ${stopped}); starting it (bash scripts/kafka/start.sh)`);
        const startedCode = await runScript('scripts/kafka/start.sh', kafkaLog);
        fault('broker-start', `broker started (exit ${startedCode})`);
        if (startedCode !== 0) violate(`scripts/kafka/start.sh exited ${startedCode}; see ${kafkaLog}`);
      } finally {
        brokerBusy = false;
        brokerDoneAt = Date.now();
        outage[1] = brokerDoneAt;
      }
    };

    const restartPostgres = async () => {
      const logFile = path.join(logDir, 'postgres-restart.log');
      fault('postgres-restart', 'restarting PostgreSQL (scripts/chaos/restart-postgres.sh)');
      const code = await runScript('scripts/chaos/restart-postgres.sh', logFile);
      fault('postgres-restart', `PostgreSQL restarted (exit ${code})`);
      if (code !== 0) violate(`restarting PostgreSQL failed (exit ${code}); see ${logFile}`);
    };

    // The schedule never waits for a restart: each fault happens at its time during the load.
    const at = (fraction: number) => sleep(Math.max(0, loadStart + fraction * duration - Date.now()));
    const restarts: Promise<void>[] = [];
    const faults = (async () => {
      await at(0.2);
      restarts.push(killAllocator('allocator-1', false));
      await at(0.35);
      await flushRedis();
      if (options.restartBroker) {
        await at(0.45);
        brokerRestart = restartTheBroker();
      }
      await at(0.6);
      restarts.push(killAllocator('allocator-2', true));
      if (options.restartPostgres) {
        await at(0.7);
        await restartPostgres();
      }
      await at(0.8);
      await flushRedis();
    })();
    const progress = setInterval(() => {
      log(`[${stamp()}] load: ${driver.books.length} bookings, ${driver.cancels.length} cancellations, ${driver.reads.length} reads so far`);
    }, 5000);
    try {
      await driver.run(concurrency, loadEnd);
    } finally {
      clearInterval(progress);
    }
    report.loadMs = Date.now() - loadStart;
    await faults;
    await Promise.all(restarts);
    await brokerRestart;
    log(`[${stamp()}] load stopped after ${(report.loadMs / 1000).toFixed(1)} s: ${driver.books.length} bookings, ${driver.cancels.length} cancellations, ${driver.reads.length} reads`);

    report.requests = {
      bookings: driver.books.length,
      cancellations: driver.cancels.length,
      reads: driver.reads.length,
      bookingAnswers: tally(driver.books.flatMap((b) => b.attempts.map(answerLabel))),
      cancellationAnswers: tally(driver.cancels.flatMap((c) => c.attempts.map(answerLabel))),
      readAnswers: tally(driver.reads.map((r) => answerLabel(r.answer))),
    };

    // --- settle: every service up, every command applied ---------------------------------------
    const settleMs = options.settleTimeoutMs ?? 60_000;
    const readyMs = Math.min(settleMs, 30_000);
    let settled = true;
    await Promise.all(
      [...specs].map(async ([name, spec]) => {
        const readiness = await waitReady(url(spec.port), readyMs);
        if (readiness.ok) return;
        settled = false;
        violate(`${name} is not ready ${readyMs / 1000} s after the load (${readiness.last}); see ${supervisor.logFile(name)}`);
      }),
    );
    log(`[${stamp()}] ${settled ? 'every service answers /readyz' : 'NOT every service is ready'}; waiting until every command is applied`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + settleMs;
      let caughtUp = 0;
      let lag = '';
      while (caughtUp < 2) {
        const high = await admin.fetchTopicOffsets(topics.commands);
        const { rows } = await pool.query<{ partition: number; next_offset: string }>(
          'SELECT partition, next_offset FROM partition_offsets WHERE topic = $1',
          [topics.commands],
        );
        const applied = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
        const outbox = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE source_topic = $1', [topics.commands]);
        const behind = high.filter((p) => Number(p.high) > Math.max(0, applied.get(p.partition) ?? 0));
        lag = [
          ...behind.map((p) => `partition ${p.partition} applied up to ${applied.get(p.partition) ?? 'nothing'} of ${p.high}`),
          ...(outbox.rows[0].n ? [`${outbox.rows[0].n} outbox rows unpublished`] : []),
        ].join('; ');
        caughtUp = lag ? 0 : caughtUp + 1;
        if (caughtUp >= 2) break;
        if (Date.now() > deadline) {
          settled = false;
          violate(`commands still not applied ${settleMs} ms after the load: ${lag}`);
          break;
        }
        await sleep(500);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    log(`[${stamp()}] commands applied; following ${driver.books.filter((b) => b.attempts[b.attempts.length - 1].status === 202).length} answers 202`);

    // --- checks ---------------------------------------------------------------------------------
    const input: CheckInput = {
      pool,
      edge,
      slots,
      books: driver.books,
      cancels: driver.cancels,
      reads: driver.reads,
      violate,
      log,
      // Nothing will converge when commands are stuck: check once, quickly, and report.
      convergeMs: settled ? 15_000 : 2000,
    };
    const followed = await follow202s(input, input.convergeMs!);
    const pg = await checkPostgres(input, report.counts);
    // A 202 that is not found through the API must be a refusal nobody waited for (checkPostgres decides).
    const neverBooked = report.counts.answers202 - report.counts.answers202Booked;
    if (followed.notFound.length !== neverBooked) {
      violate(`${followed.notFound.length} answers 202 are unknown to the API but PostgreSQL has no token for ${neverBooked} of them`);
    }
    await checkViews(input, report.counts, pg);
    await checkTokenReads(input, report.counts, pg);
    log(`[${stamp()}] checks done`);
    writeFileSync(
      path.join(logDir, 'answers.json'),
      JSON.stringify({ slots, books: driver.books, cancels: driver.cancels, reads: driver.reads }, null, 1),
    );
    return report;
  } catch (err) {
    violate(`the chaos run failed: ${(err as Error).stack ?? err}`);
    return report;
  } finally {
    stopping = true;
    try {
      writeFileSync(path.join(logDir, 'report.json'), JSON.stringify(report, null, 2));
    } catch {
      // the report is returned anyway
    }
    await supervisor.stopAll(5000);
    await deleteRunKeys().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteTopics({ topics: Object.values(topics), timeout: 5000 }))
      .catch(() => undefined)
      .finally(() => admin.disconnect().catch(() => undefined));
    await pool.end().catch(() => undefined);
    redis.disconnect();
  }
}

/** The report as lines for a terminal: the faults, the requests and the counts checked. */
export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const sorted = (record: Record<string, number>) =>
    Object.entries(record)
      .sort((a, b) => b[1] - a[1])
      .map(([label, n]) => `${label}: ${n}`)
      .join(', ') || '-';
  lines.push(`Chaos run ${report.runId} (${report.prefix}); child logs in ${report.logDir}`);
  lines.push(`Faults (${report.faults.length}):`);
  for (const f of report.faults) lines.push(`  ${(f.atMs / 1000).toFixed(1).padStart(6)} s  ${f.kind.padEnd(18)} ${f.detail}`);
  lines.push(`Load: ${(report.loadMs / 1000).toFixed(1)} s over ${report.slots} slots`);
  lines.push(`  bookings ${report.requests.bookings}: ${sorted(report.requests.bookingAnswers)}`);
  lines.push(`  cancellations ${report.requests.cancellations}: ${sorted(report.requests.cancellationAnswers)}`);
  lines.push(`  reads ${report.requests.reads}: ${sorted(report.requests.readAnswers)}`);
  const c = report.counts;
  lines.push('Checked:');
  lines.push(`  slots (capacity, numbering, counters) ${c.slotsChecked}; tokens in PostgreSQL ${c.tokensInPostgres}`);
  lines.push(`  booking requests ${c.bookingsChecked}: 200/201 answers ${c.answers201Checked} (idempotent repeats ${c.idempotentAnswersChecked}), refusals ${c.rejectionsChecked}`);
  lines.push(`  202 answers ${c.answers202}: booked ${c.answers202Booked}, refused (slot full) ${c.answers202Rejected}`);
  lines.push(`  no answer / 5xx: applied anyway ${c.ambiguousApplied}, not applied ${c.ambiguousNotApplied}`);
  lines.push(`  cancellations ${c.cancellationsChecked}, promotions ${c.promotionsChecked}, reads during the load ${c.readsDuringLoad}`);
  lines.push(`  views equal to PostgreSQL ${c.viewsChecked}; tokens read back equal to PostgreSQL ${c.tokensReadChecked}`);
  lines.push(report.violations.length ? `VIOLATIONS (${report.violations.length}):` : 'No violations.');
  for (const v of report.violations) lines.push(`  - ${v}`);
  return lines.join('\n');
}
