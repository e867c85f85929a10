/**
 * The day's statistics, per doctor and per source, from the simulation's token records (pure).
 * Waits are in simulated minutes: call time minus arrival time (at the desk).
 */
import type { Source } from '../seed-day';

export const SOURCES: readonly Source[] = ['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'];

/** What the statistics need of one token. */
export interface TokenOutcome {
  doctor: string;
  source: Source;
  /** The token's final status as the system answered it. */
  status: string;
  overCapacity: boolean;
  /** Booked in a later slot than asked for (the first choice was full). */
  redirected: boolean;
  /** Simulated minutes: at the desk, and called by the doctor (null when never called). */
  arrivalAt: number | null;
  calledAt: number | null;
}

/** A request that got no token at all: the slot and every alternative were full. */
export interface Refusal {
  doctor: string;
  source: Source;
  at: number;
}

export interface GroupStats {
  /** Tokens issued (201). */
  booked: number;
  /** Seen by the doctor (COMPLETED). */
  served: number;
  meanWait: number | null;
  medianWait: number | null;
  p90Wait: number | null;
  maxWait: number | null;
  /** Emergencies accepted when the slot was already full (overCapacity). */
  overflowEmergencies: number;
  noShows: number;
  cancelled: number;
  /** Still live at the end of the day (should be 0 once the doctors have finished). */
  waiting: number;
  /** Requests refused with SLOT_FULL and no later slot with room. */
  refused: number;
  /** Booked into a later slot offered as an alternative. */
  redirected: number;
}

const LIVE = new Set(['BOOKED', 'CHECKED_IN', 'CALLED', 'WAITLISTED', 'PENDING']);

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function groupStats(tokens: readonly TokenOutcome[], refusals: readonly Refusal[]): GroupStats {
  const waits = tokens
    .filter((t) => t.status === 'COMPLETED' && t.calledAt !== null && t.arrivalAt !== null)
    .map((t) => (t.calledAt as number) - (t.arrivalAt as number))
    .sort((a, b) => a - b);
  const count = (status: string) => tokens.filter((t) => t.status === status).length;
  return {
    booked: tokens.length,
    served: count('COMPLETED'),
    meanWait: waits.length ? waits.reduce((sum, w) => sum + w, 0) / waits.length : null,
    medianWait: percentile(waits, 50),
    p90Wait: percentile(waits, 90),
    maxWait: waits.length ? waits[waits.length - 1] : null,
    overflowEmergencies: tokens.filter((t) => t.source === 'EMERGENCY' && t.overCapacity).length,
    noShows: count('NO_SHOW'),
    cancelled: count('CANCELLED'),
    waiting: tokens.filter((t) => LIVE.has(t.status)).length,
    refused: refusals.length,
    redirected: tokens.filter((t) => t.redirected).length,
  };
}

export interface DayStats {
  byDoctor: Record<string, GroupStats>;
  bySource: Record<Source, GroupStats>;
  total: GroupStats;
}

export function computeStats(doctorKeys: readonly string[], tokens: readonly TokenOutcome[], refusals: readonly Refusal[]): DayStats {
  const byDoctor: Record<string, GroupStats> = {};
  for (const key of doctorKeys) {
    byDoctor[key] = groupStats(tokens.filter((t) => t.doctor === key), refusals.filter((r) => r.doctor === key));
  }
  const bySource = {} as Record<Source, GroupStats>;
  for (const source of SOURCES) {
    bySource[source] = groupStats(tokens.filter((t) => t.source === source), refusals.filter((r) => r.source === source));
  }
  return { byDoctor, bySource, total: groupStats(tokens, refusals) };
}

// ---- Formatting ----

const minutes = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} min`);

const COLUMNS: Array<[string, (s: GroupStats) => string]> = [
  ['Booked', (s) => String(s.booked)],
  ['Served', (s) => String(s.served)],
  ['Mean wait', (s) => minutes(s.meanWait)],
  ['P90 wait', (s) => minutes(s.p90Wait)],
  ['Overflow em.', (s) => String(s.overflowEmergencies)],
  ['No-shows', (s) => String(s.noShows)],
  ['Cancelled', (s) => String(s.cancelled)],
  ['Waiting', (s) => String(s.waiting)],
  ['Refused', (s) => String(s.refused)],
  ['Redirected', (s) => String(s.redirected)],
];

/** A plain-text table: one row per group and a total row; numbers right-aligned. */
export function formatStatsTable(title: string, rows: Array<[string, GroupStats]>, total: GroupStats): string {
  const cells = [...rows, ['Total', total] as [string, GroupStats]].map(([name, s]) => [name, ...COLUMNS.map(([, f]) => f(s))]);
  const titles = [title, ...COLUMNS.map(([t]) => t)];
  const widths = titles.map((t, c) => Math.max(t.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) => '  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const rule = '  ' + widths.map((w) => '-'.repeat(w)).join('  ');
  const body = cells.map(line);
  return [line(titles), rule, ...body.slice(0, -1), rule, body[body.length - 1]].join('\n');
}
