/**
 * What a chaos run checks once the load has stopped and every command has been applied: PostgreSQL
 * (the truth) against the rules and against every answer the clients got, then the read side (the
 * Redis views and tokens, through the API) against PostgreSQL.
 */
import type { Pool } from 'pg';
import { answerLabel, send, sleep } from './http';
import { finalAnswer, isAmbiguous, isFinalBookSuccess, type BookRecord, type CancelRecord, type ReadRecord, type SeedSlot } from './load';

const CAPACITY_HOLDING = new Set(['BOOKED', 'CHECKED_IN', 'CALLED', 'COMPLETED']);
const QUEUED = new Set(['BOOKED', 'CHECKED_IN']);

export interface PgSlot {
  id: string;
  capacity: number;
  status: string;
  active_count: number;
  next_number: number;
  version: number;
}

export interface PgToken {
  id: string;
  slot_id: string;
  number: number;
  source: string;
  weight: number;
  status: string;
  over_capacity: boolean;
  patient: { name: string; phone?: string; mrn?: string };
  arrival_at: Date;
}

export interface CheckCounts {
  slotsChecked: number;
  tokensInPostgres: number;
  bookingsChecked: number;
  answers201Checked: number;
  idempotentAnswersChecked: number;
  answers202: number;
  answers202Booked: number;
  answers202Rejected: number;
  rejectionsChecked: number;
  ambiguousApplied: number;
  ambiguousNotApplied: number;
  cancellationsChecked: number;
  promotionsChecked: number;
  readsDuringLoad: number;
  viewsChecked: number;
  tokensReadChecked: number;
}

export function emptyCounts(): CheckCounts {
  return {
    slotsChecked: 0,
    tokensInPostgres: 0,
    bookingsChecked: 0,
    answers201Checked: 0,
    idempotentAnswersChecked: 0,
    answers202: 0,
    answers202Booked: 0,
    answers202Rejected: 0,
    rejectionsChecked: 0,
    ambiguousApplied: 0,
    ambiguousNotApplied: 0,
    cancellationsChecked: 0,
    promotionsChecked: 0,
    readsDuringLoad: 0,
    viewsChecked: 0,
    tokensReadChecked: 0,
  };
}

export interface CheckInput {
  pool: Pool;
  edge: string;
  slots: SeedSlot[];
  books: BookRecord[];
  cancels: CancelRecord[];
  reads: ReadRecord[];
  violate: (message: string) => void;
  log: (line: string) => void;
  /** How long views may take to converge on PostgreSQL. */
  convergeMs?: number;
}

async function inParallel<T>(items: readonly T[], workers: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) await each(items[next++]);
    }),
  );
}

const samePatient = (a: { name: string; phone?: string; mrn?: string }, b: { name: string; phone?: string; mrn?: string }) =>
  a.name === b.name && (a.phone ?? null) === (b.phone ?? null) && (a.mrn ?? null) === (b.mrn ?? null);

export async function loadPostgres(pool: Pool, slotIds: string[]): Promise<{ slots: Map<string, PgSlot>; tokens: PgToken[] }> {
  const slotRows = await pool.query(
    'SELECT id, capacity, status, active_count, next_number, version::int AS version FROM slots WHERE id = ANY($1::text[])',
    [slotIds],
  );
  const tokenRows = await pool.query<PgToken>(
    `SELECT id, slot_id, number, source, weight, status, over_capacity, patient, arrival_at
       FROM tokens WHERE slot_id = ANY($1::text[]) ORDER BY slot_id, number`,
    [slotIds],
  );
  return { slots: new Map(slotRows.rows.map((r) => [r.id, r as PgSlot])), tokens: tokenRows.rows };
}

/** Every 202 answered for a booking, followed through the API until it is no longer pending. */
export async function follow202s(input: CheckInput, timeoutMs: number): Promise<{ resolved: number; notFound: string[] }> {
  const pending = input.books
    .filter((b) => finalAnswer(b.attempts).status === 202)
    .map((b) => String(finalAnswer(b.attempts).body?.token?.id ?? ''));
  const deadline = Date.now() + timeoutMs;
  let resolved = 0;
  const notFound: string[] = [];
  await inParallel(pending, 8, async (id) => {
    for (;;) {
      const answer = await send(input.edge, 'GET', `/api/tokens/${id}`);
      if (answer.status === 200 && answer.body?.token?.status && answer.body.token.status !== 'PENDING') {
        resolved += 1;
        return;
      }
      if (Date.now() > deadline) {
        if (answer.status === 404) notFound.push(id);
        else input.violate(`202 token ${id} still unresolved through the API after ${timeoutMs} ms: ${answerLabel(answer)}`);
        return;
      }
      await sleep(250);
    }
  });
  return { resolved, notFound };
}

/** The checks against PostgreSQL: capacity, numbering, and every answer the clients got. */
export async function checkPostgres(input: CheckInput, counts: CheckCounts): Promise<{ slots: Map<string, PgSlot>; tokens: PgToken[] }> {
  const { violate } = input;
  const pg = await loadPostgres(input.pool, input.slots.map((s) => s.slotId));
  counts.tokensInPostgres = pg.tokens.length;
  const byId = new Map(pg.tokens.map((t) => [t.id, t]));
  const byName = new Map<string, PgToken[]>();
  for (const token of pg.tokens) byName.set(token.patient.name, [...(byName.get(token.patient.name) ?? []), token]);

  // Per slot: capacity, unique contiguous numbers, the denormalised counters.
  for (const seed of input.slots) {
    const slot = pg.slots.get(seed.slotId);
    if (!slot) {
      violate(`slot ${seed.slotId} (created with 201) is missing from PostgreSQL`);
      continue;
    }
    counts.slotsChecked += 1;
    const tokens = pg.tokens.filter((t) => t.slot_id === slot.id);
    const holding = tokens.filter((t) => CAPACITY_HOLDING.has(t.status));
    const nonEmergency = holding.filter((t) => t.source !== 'EMERGENCY');
    if (nonEmergency.length > slot.capacity) {
      violate(`slot ${slot.id}: ${nonEmergency.length} non-emergency tokens hold capacity ${slot.capacity}`);
    }
    if (slot.active_count !== holding.length) {
      violate(`slot ${slot.id}: slots.active_count ${slot.active_count} but ${holding.length} tokens hold capacity`);
    }
    for (const t of tokens) {
      if (t.over_capacity && t.source !== 'EMERGENCY') violate(`token ${t.id} (${t.source}) is over capacity but not an emergency`);
    }
    if (tokens.some((t) => t.status === 'WAITLISTED') && holding.length < slot.capacity) {
      violate(`slot ${slot.id}: waitlisted tokens while only ${holding.length} of ${slot.capacity} places are held (no promotion)`);
    }
    const numbers = tokens.map((t) => t.number).sort((a, b) => a - b);
    const expected = numbers.map((_, i) => i + 1);
    if (numbers.join(',') !== expected.join(',')) {
      violate(`slot ${slot.id}: token numbers are not 1..${numbers.length}: ${numbers.join(',')}`);
    }
    if (slot.next_number !== tokens.length + 1) {
      violate(`slot ${slot.id}: next_number ${slot.next_number} but ${tokens.length} tokens were issued`);
    }
  }

  // No token without a request, no request booked twice.
  const requested = new Map(input.books.map((b) => [b.patient.name, b]));
  for (const [name, tokens] of byName) {
    if (!requested.has(name)) violate(`token ${tokens.map((t) => t.id).join(', ')} for "${name}" matches no request of this run`);
    if (tokens.length > 1) {
      violate(`one booking request ("${name}") became ${tokens.length} tokens: ${tokens.map((t) => `${t.id} #${t.number} in ${t.slot_id}`).join('; ')}`);
    }
  }

  // The token ids the API named: one request each.
  const namedBy = new Map<string, number>();
  for (const book of input.books) {
    const ids = new Set(book.attempts.map((a) => a.body?.token?.id).filter((id): id is string => typeof id === 'string'));
    for (const id of ids) {
      if (namedBy.has(id)) violate(`token id ${id} was given to two requests (#${namedBy.get(id)} and #${book.seq})`);
      namedBy.set(id, book.seq);
    }
  }

  for (const book of input.books) {
    counts.bookingsChecked += 1;
    const final = finalAnswer(book.attempts);
    const stored = byName.get(book.patient.name)?.[0];
    const successes = book.attempts.filter(isFinalBookSuccess);
    const describe = `booking #${book.seq} (${book.source}, onFull ${book.onFull ?? 'default'}${book.idempotencyKey ? ', keyed' : ''})`;

    if (successes.length > 0) {
      const ids = new Set(successes.map((a) => a.body?.token?.id));
      if (ids.size !== 1) violate(`${describe}: answers name different tokens: ${[...ids].join(', ')}`);
      if (successes.length > 1) counts.idempotentAnswersChecked += successes.length - 1;
      if (!isFinalBookSuccess(final) && final.status !== 202 && !isAmbiguous(final)) {
        violate(`${describe}: answered ${successes[0].status} and later ${answerLabel(final)} with the same Idempotency-Key`);
      }
      for (const answer of successes) {
        const token = answer.body?.token;
        counts.answers201Checked += 1;
        const row = token ? byId.get(token.id) : undefined;
        if (!row) {
          violate(`${describe}: answered ${answer.status} with token ${token?.id} #${token?.number}, which is not in PostgreSQL`);
          continue;
        }
        const diffs: string[] = [];
        if (row.slot_id !== token.slotId) diffs.push(`slot ${token.slotId} vs ${row.slot_id}`);
        if (row.number !== token.number) diffs.push(`number ${token.number} vs ${row.number}`);
        if (row.source !== token.source || token.source !== book.source) diffs.push(`source ${token.source} vs ${row.source}`);
        if (!samePatient(row.patient, token.patient) || !samePatient(row.patient, book.patient)) diffs.push('patient differs');
        if (book.onFull !== 'next-slot' && row.slot_id !== book.slotId) diffs.push(`booked in ${row.slot_id}, asked ${book.slotId}`);
        if (diffs.length) violate(`${describe}: answer ${answer.status} token ${token.id} differs from PostgreSQL: ${diffs.join('; ')}`);
      }
      continue;
    }

    if (final.status === 202) {
      counts.answers202 += 1;
      const id = final.body?.token?.id;
      if (stored) {
        counts.answers202Booked += 1;
        if (stored.id !== id) violate(`${describe}: answered 202 for token ${id} but booked as ${stored.id}`);
      } else if (book.source === 'EMERGENCY' || book.onFull === 'waitlist') {
        // Neither an emergency nor a waitlist booking can be refused in an open slot: the command was lost.
        violate(`${describe}: answered 202 for token ${id}, never applied (no token in PostgreSQL)`);
      } else {
        counts.answers202Rejected += 1; // a refusal (slot full) nobody waited for
      }
      continue;
    }

    if (isAmbiguous(final)) {
      if (stored) counts.ambiguousApplied += 1;
      else counts.ambiguousNotApplied += 1;
      continue;
    }

    counts.rejectionsChecked += 1;
    if (stored) violate(`${describe}: answered ${answerLabel(final)} but token ${stored.id} #${stored.number} exists in ${stored.slot_id}`);
    if (book.source === 'EMERGENCY' || (book.onFull === 'waitlist' && final.status === 409)) {
      violate(`${describe}: refused with ${answerLabel(final)} (emergencies and waitlist bookings are always accepted)`);
    }
  }

  for (const cancel of input.cancels) {
    const final = finalAnswer(cancel.attempts);
    const row = byId.get(cancel.tokenId);
    const describe = `cancel #${cancel.seq} of ${cancel.tokenId}${cancel.repeat ? ' (repeated)' : ''}`;
    if (final.status === 200 || final.status === 202) {
      counts.cancellationsChecked += 1;
      if (!row) violate(`${describe}: answered ${final.status}, token not in PostgreSQL`);
      else if (row.status !== 'CANCELLED') violate(`${describe}: answered ${final.status} but PostgreSQL says ${row.status}`);
      if (final.status === 200) {
        if (final.body?.token?.status !== 'CANCELLED') violate(`${describe}: answer 200 says ${final.body?.token?.status}`);
        const promoted = final.body?.promoted;
        if (promoted) {
          counts.promotionsChecked += 1;
          const promotedRow = byId.get(promoted.id);
          if (!promotedRow) violate(`${describe}: promoted ${promoted.id}, not in PostgreSQL`);
          else if (promotedRow.status === 'WAITLISTED') violate(`${describe}: promoted ${promoted.id}, still WAITLISTED in PostgreSQL`);
        }
      }
    } else if (!isAmbiguous(final)) {
      violate(`${describe}: a confirmed token's cancellation answered ${answerLabel(final)}`);
    }
  }

  for (const read of input.reads) {
    counts.readsDuringLoad += 1;
    if (read.answer.status === 404) violate(`GET /api/tokens/${read.tokenId} answered 404 for a confirmed token during the load`);
  }

  return pg;
}

interface ExpectedView {
  version: number;
  capacity: number;
  activeCount: number;
  queue: string[];
  waitlist: string[];
  nowServing: string[];
}

function order(a: PgToken, b: PgToken): number {
  if (a.weight !== b.weight) return a.weight - b.weight;
  if (a.arrival_at.getTime() !== b.arrival_at.getTime()) return a.arrival_at.getTime() - b.arrival_at.getTime();
  return a.number - b.number;
}

function expectedView(slot: PgSlot, tokens: PgToken[]): ExpectedView {
  const describe = (t: PgToken) => `${t.id}:${t.status}`;
  return {
    version: slot.version,
    capacity: slot.capacity,
    activeCount: tokens.filter((t) => CAPACITY_HOLDING.has(t.status)).length,
    queue: tokens.filter((t) => QUEUED.has(t.status)).sort(order).map(describe),
    waitlist: tokens.filter((t) => t.status === 'WAITLISTED').sort(order).map(describe),
    nowServing: tokens.filter((t) => t.status === 'CALLED').sort(order).map(describe),
  };
}

function viewDiff(expected: ExpectedView, body: any): string | null {
  if (!body || typeof body !== 'object') return 'no view body';
  const describe = (list: any[] | undefined) => (list ?? []).map((t) => `${t.id}:${t.status}`);
  const diffs: string[] = [];
  if (body.version !== expected.version) diffs.push(`version ${body.version} vs ${expected.version}`);
  if (body.slot?.capacity !== expected.capacity) diffs.push(`capacity ${body.slot?.capacity} vs ${expected.capacity}`);
  if (body.slot?.activeCount !== expected.activeCount) diffs.push(`activeCount ${body.slot?.activeCount} vs ${expected.activeCount}`);
  for (const part of ['queue', 'waitlist', 'nowServing'] as const) {
    const got = describe(body[part]);
    if (got.join(',') !== expected[part].join(',')) diffs.push(`${part} [${got.join(', ')}] vs [${expected[part].join(', ')}]`);
    if (part !== 'nowServing' && (body[part] ?? []).some((t: any, i: number) => t.position !== i + 1)) diffs.push(`${part} positions`);
  }
  return diffs.length ? diffs.join('; ') : null;
}

/** Each slot's view (through the edge, from Redis or rebuilt) equals PostgreSQL's state, within `convergeMs`. */
export async function checkViews(input: CheckInput, counts: CheckCounts, pg: { slots: Map<string, PgSlot>; tokens: PgToken[] }): Promise<void> {
  const deadline = Date.now() + (input.convergeMs ?? 15_000);
  await inParallel(input.slots, 4, async (seed) => {
    const slot = pg.slots.get(seed.slotId);
    if (!slot) return;
    const expected = expectedView(slot, pg.tokens.filter((t) => t.slot_id === slot.id));
    for (;;) {
      const answer = await send(input.edge, 'GET', `/api/tokens/view/${slot.id}`);
      const diff = answer.status === 200 ? viewDiff(expected, answer.body) : `answered ${answerLabel(answer)}`;
      if (!diff) {
        counts.viewsChecked += 1;
        return;
      }
      if (Date.now() > deadline) {
        input.violate(`view of slot ${slot.id} differs from PostgreSQL after ${input.convergeMs ?? 15_000} ms: ${diff}`);
        return;
      }
      await sleep(200);
    }
  });
}

/** Every token of the run, read through the API, equals its PostgreSQL row. */
export async function checkTokenReads(input: CheckInput, counts: CheckCounts, pg: { tokens: PgToken[] }): Promise<void> {
  const deadline = Date.now() + (input.convergeMs ?? 15_000);
  await inParallel(pg.tokens, 8, async (row) => {
    for (;;) {
      const answer = await send(input.edge, 'GET', `/api/tokens/${row.id}`);
      const token = answer.body?.token;
      const diffs: string[] = [];
      if (answer.status !== 200 || !token) diffs.push(`answered ${answerLabel(answer)}`);
      else {
        if (token.slotId !== row.slot_id) diffs.push(`slot ${token.slotId} vs ${row.slot_id}`);
        if (token.number !== row.number) diffs.push(`number ${token.number} vs ${row.number}`);
        if (token.source !== row.source) diffs.push(`source ${token.source} vs ${row.source}`);
        if (token.status !== row.status) diffs.push(`status ${token.status} vs ${row.status}`);
        if (!samePatient(token.patient, row.patient)) diffs.push('patient differs');
      }
      if (diffs.length === 0) {
        counts.tokensReadChecked += 1;
        return;
      }
      if (Date.now() > deadline) {
        input.violate(`GET /api/tokens/${row.id} differs from PostgreSQL: ${diffs.join('; ')}`);
        return;
      }
      await sleep(200);
    }
  });
}
