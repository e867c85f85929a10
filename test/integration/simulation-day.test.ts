import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDayChart } from '../../scripts/lib/day/chart';
import { formatDayReport } from '../../scripts/lib/day/report';
import { runDaySimulation, type DayResult } from '../../scripts/lib/day/simulation';
import { percentile, SOURCES, type GroupStats } from '../../scripts/lib/day/stats';
import { startSystem, type TestSystem } from '../support/system';

/**
 * `npm run simulate -- --day` against the real services: a short day (2 slots per doctor) whose
 * seed gives every source, no-shows, cancellations, refusals and an overflow emergency.
 */
const SMALL_DAY = { seed: 7, slotsPerDoctor: 2 };

describe('the day simulation (npm run simulate -- --day) through the public HTTP API', () => {
  let system: TestSystem;
  let result: DayResult;
  let again: DayResult;
  let dir: string;
  const notable: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ label: 'simday' });
    result = await runDaySimulation(system.edgeUrl, SMALL_DAY, (line, kind) => {
      if (kind === 'notable') notable.push(line);
    });
    again = await runDaySimulation(system.edgeUrl, SMALL_DAY);
    dir = mkdtempSync(join(tmpdir(), 'sim-day-'));
  }, 90_000);
  afterAll(async () => {
    await system?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const groups = (r: DayResult): Array<[string, GroupStats]> => [
    ['total', r.stats.total],
    ...Object.entries(r.stats.byDoctor),
    ...Object.entries(r.stats.bySource),
  ];

  it('holds every check it made against the views while the day ran', () => {
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.anomalies).toEqual([]);
    expect(result.checks.map((c) => c.name)).toContain('every view showed each change');
  });

  it('plays a day with every source, cancellations, no-shows, refusals, a delay and a capacity change', () => {
    const { total, bySource } = result.stats;
    for (const source of SOURCES) expect(bySource[source].booked + bySource[source].refused).toBeGreaterThan(0);
    expect(total.noShows).toBeGreaterThan(0);
    expect(total.cancelled).toBeGreaterThan(0);
    expect(total.refused).toBeGreaterThan(0);
    expect(total.overflowEmergencies).toBeGreaterThan(0);

    const delay = result.markers.find((m) => m.kind === 'delay');
    expect(delay).toBeDefined();
    if (delay?.kind === 'delay') {
      const slots = result.doctors.find((d) => d.key === delay.doctor)!.slots;
      expect(slots.some((s) => s.delayMinutes === delay.minutes)).toBe(true);
    }
    const change = result.markers.find((m) => m.kind === 'capacity');
    expect(change).toBeDefined();
    if (change?.kind === 'capacity') {
      const slot = result.doctors.find((d) => d.key === change.doctor)!.slots[change.slotIndex];
      expect(change.to).toBe(change.from + 2);
      expect(slot.capacity).toBe(change.to);
    }
    expect(notable.some((line) => line.includes('EMERGENCY'))).toBe(true);
    expect(result.doctors.map((d) => [d.name, d.capacity])).toEqual([
      ['Dr. Smith', 5],
      ['Dr. Jones', 4],
      ['Dr. Taylor', 6],
    ]);
  });

  it('accounts for every token: served + no-shows + cancelled + waiting = booked, nobody left waiting', () => {
    for (const [, s] of groups(result)) {
      expect(s.served + s.noShows + s.cancelled + s.waiting).toBe(s.booked);
      expect(s.waiting).toBe(0);
    }
    const { byDoctor, bySource, total } = result.stats;
    const sum = (values: GroupStats[], f: (s: GroupStats) => number) => values.reduce((n, s) => n + f(s), 0);
    for (const f of [(s: GroupStats) => s.booked, (s: GroupStats) => s.served, (s: GroupStats) => s.refused, (s: GroupStats) => s.noShows]) {
      expect(sum(Object.values(byDoctor), f)).toBe(f(total));
      expect(sum(Object.values(bySource), f)).toBe(f(total));
    }
    expect(total.booked).toBe(result.tokens.length);
    // Only patients booked ahead can fail to turn up; the desk's own patients are there.
    expect(bySource.WALK_IN.noShows + bySource.EMERGENCY.noShows + bySource.PAID_PRIORITY.noShows).toBe(0);
  });

  it('accepts every emergency, over capacity only when the slot was full, and serves them all', () => {
    const emergencies = result.tokens.filter((t) => t.source === 'EMERGENCY');
    expect(emergencies.length).toBeGreaterThan(0);
    expect(result.refusals.filter((r) => r.source === 'EMERGENCY')).toEqual([]);
    expect(emergencies.every((t) => t.status === 'COMPLETED')).toBe(true);
    expect(result.stats.bySource.EMERGENCY.overflowEmergencies).toBe(emergencies.filter((t) => t.overCapacity).length);
    expect(result.tokens.filter((t) => t.source !== 'EMERGENCY' && t.overCapacity)).toEqual([]);
  });

  it('never let non-emergency tokens exceed a slot\'s capacity', () => {
    for (const doctor of result.doctors) {
      for (const slot of doctor.slots) {
        expect(slot.maxNonEmergencyActive).toBeLessThanOrEqual(slot.capacity);
        expect(slot.maxActive).toBeGreaterThan(0);
      }
    }
  });

  it('measures waits in simulated minutes from arrival to call, with consistent mean and percentiles', () => {
    const served = result.tokens.filter((t) => t.status === 'COMPLETED');
    for (const t of served) {
      expect(t.arrivalAt).not.toBeNull();
      expect(t.calledAt!).toBeGreaterThanOrEqual(t.arrivalAt!);
      expect(t.completedAt!).toBeGreaterThan(t.calledAt!);
    }
    for (const doctor of result.doctors) {
      const waits = served.filter((t) => t.doctor === doctor.key).map((t) => t.calledAt! - t.arrivalAt!).sort((a, b) => a - b);
      const s = result.stats.byDoctor[doctor.key];
      expect(s.served).toBe(waits.length);
      expect(s.meanWait).toBeCloseTo(waits.reduce((n, w) => n + w, 0) / waits.length, 6);
      expect(s.p90Wait).toBe(percentile(waits, 90));
    }
    for (const [, s] of groups(result)) {
      if (s.served === 0) {
        expect(s.meanWait).toBeNull();
        continue;
      }
      expect(s.medianWait!).toBeGreaterThanOrEqual(0);
      expect(s.p90Wait!).toBeGreaterThanOrEqual(s.medianWait!);
      expect(s.maxWait!).toBeGreaterThanOrEqual(s.p90Wait!);
      expect(s.meanWait!).toBeGreaterThanOrEqual(0);
      expect(s.meanWait!).toBeLessThanOrEqual(s.maxWait!);
    }
    // Emergencies are seen first: on average they wait less than walk-ins.
    expect(result.stats.bySource.EMERGENCY.meanWait!).toBeLessThan(result.stats.bySource.WALK_IN.meanWait!);
  });

  it('samples each doctor\'s queue over simulated time, from an empty morning to an empty evening', () => {
    for (const doctor of result.doctors) {
      const series = result.series[doctor.key];
      expect(series.length).toBeGreaterThan(5);
      expect(series[0]).toEqual({ t: result.simStart, queue: 0, present: 0, serving: 0 });
      expect(series.every((s, i) => i === 0 || s.t >= series[i - 1].t)).toBe(true);
      expect(series.every((s) => s.present <= s.queue && s.serving <= 1)).toBe(true);
      expect(series[series.length - 1]).toMatchObject({ queue: 0, present: 0, serving: 0 });
      expect(Math.max(...series.map((s) => s.queue))).toBeGreaterThan(0);
    }
  });

  it('repeats the same statistics for the same seed', () => {
    expect(again.runId).not.toBe(result.runId);
    expect(again.stats).toEqual(result.stats);
    expect(again.events).toBe(result.events);
    expect(again.markers.map(({ kind, t }) => [kind, t])).toEqual(result.markers.map(({ kind, t }) => [kind, t]));
    expect(again.series).toEqual(result.series);
  });

  it('prints per doctor and per source tables', () => {
    const report = formatDayReport(result);
    expect(report).toContain('Per doctor');
    expect(report).toContain('Per source');
    for (const name of ['Dr. Smith', 'Dr. Jones', 'Dr. Taylor', ...SOURCES]) expect(report).toContain(name);
    expect(report).toMatch(/Mean wait\s+P90 wait\s+Overflow em\.\s+No-shows\s+Cancelled\s+Waiting\s+Refused/);
    expect(report).toContain(`Checks (seed ${SMALL_DAY.seed}): ${result.checks.length} of ${result.checks.length} held`);
  });

  it('writes an SVG chart with a queue line per doctor, axes and a legend', () => {
    const path = join(dir, 'nested', 'sim-day.svg');
    writeDayChart(path, result);
    expect(existsSync(path)).toBe(true);
    const svg = readFileSync(path, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const [, width, height] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.map(Number);
    for (const doctor of result.doctors) {
      const line = new RegExp(`<polyline data-doctor="${doctor.key}" data-series="queue"[^>]* points="([^"]+)"`).exec(svg);
      expect(line).not.toBeNull();
      const points = line![1].split(' ').map((p) => p.split(',').map(Number));
      expect(points.length).toBeGreaterThanOrEqual(result.series[doctor.key].length);
      for (const [px, py] of points) {
        expect(px).toBeGreaterThanOrEqual(0);
        expect(px).toBeLessThanOrEqual(width);
        expect(py).toBeGreaterThanOrEqual(0);
        expect(py).toBeLessThanOrEqual(height);
      }
      expect(svg).toContain(`${doctor.name} (${doctor.capacity}/slot)`);
    }
    expect(svg).toContain('simulated time of day');
    expect(svg).toMatch(/>09:00</);
    expect(svg).toContain('emergency, over capacity');
  });
});
