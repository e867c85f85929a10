import { formatQueueTable, isPriorityOrdered, runSeedScenario, type SeedResult } from '../../scripts/lib/seed-day';
import { startSystem, type TestSystem } from '../support/system';

describe('the seed scenario (npm run simulate) through the public HTTP API', () => {
  let system: TestSystem;
  let result: SeedResult;
  const lines: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ label: 'sim' });
    result = await runSeedScenario(system.edgeUrl, (line) => lines.push(line));
  });
  afterAll(async () => {
    await system?.close();
  });

  it('meets every expectation of the scenario', () => {
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
  });

  it('creates three doctors with unique ids on branch main, one open slot each', () => {
    const { smith, jones, taylor } = result.doctors;
    expect(smith.doctor).toMatchObject({ id: `smith-${result.runId}`, name: 'Dr. Smith', branchId: 'main' });
    expect(jones.doctor).toMatchObject({ id: `jones-${result.runId}`, name: 'Dr. Jones', branchId: 'main' });
    expect(taylor.doctor).toMatchObject({ id: `taylor-${result.runId}`, name: 'Dr. Taylor', branchId: 'main' });
    expect(result.runId).toMatch(/^[0-9a-f]{6}$/);
    expect([smith.slot.capacity, jones.slot.capacity, taylor.slot.capacity]).toEqual([5, 4, 6]);
    for (const day of [smith, jones, taylor]) {
      expect(day.slot.status).toBe('OPEN');
      expect(Date.parse(day.slot.end)).toBeGreaterThan(Date.now());
    }
  });

  it('refuses a 6th online booking for Dr. Smith with 409 SLOT_FULL', () => {
    expect(result.facts.refused).toMatchObject({ status: 409, code: 'SLOT_FULL' });
  });

  it('accepts the emergency at #1 over capacity, removing nobody', () => {
    const { facts } = result;
    const view = result.doctors.smith.view;
    expect(facts.emergencyToken).toMatchObject({ source: 'EMERGENCY', weight: 1, position: 1, overCapacity: true });
    expect(facts.emergencyPosition).toBe(1);
    expect(facts.emergencyViewPosition).toBe(1);
    expect(facts.emergencyOverCapacity).toBe(true);
    expect(facts.smithQueueLength).toBe(6);

    expect(view.queue).toHaveLength(6);
    expect(view.queue[0]).toMatchObject({ id: facts.emergencyToken.id, source: 'EMERGENCY', position: 1, overCapacity: true });
    expect(facts.smithOnlineTokenIds).toHaveLength(5);
    const queuedIds = view.queue.map((t) => t.id);
    for (const id of facts.smithOnlineTokenIds) expect(queuedIds).toContain(id);
    expect(queuedIds.slice(1)).toEqual(facts.smithOnlineTokenIds);
    expect(view.queue.slice(1).every((t) => t.source === 'ONLINE' && t.status === 'BOOKED' && !t.overCapacity)).toBe(true);
    expect(view.queue.map((t) => t.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(view.slot).toMatchObject({ capacity: 5, activeCount: 6, available: 0 });
  });

  it('orders Dr. Jones and Dr. Taylor by weight, then arrival', () => {
    for (const key of ['jones', 'taylor'] as const) {
      const { view, booked } = result.doctors[key];
      expect(view.queue).toHaveLength(booked.length);
      expect(isPriorityOrdered(view.queue)).toBe(true);
      const weights = view.queue.map((t) => t.weight);
      expect(weights).toEqual([...weights].sort((a, b) => a - b));
      expect(new Set(view.queue.map((t) => t.source)).size).toBeGreaterThanOrEqual(3);
      expect(view.queue.map((t) => t.position)).toEqual(view.queue.map((_, i) => i + 1));
    }
    expect(result.doctors.jones.view.queue.map((t) => t.source)).toEqual(['PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN']);
    expect(result.doctors.taylor.view.queue.map((t) => t.source)).toEqual(['PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN', 'WALK_IN']);
    // Walk-ins are at the desk already: they start checked in.
    expect(result.doctors.taylor.view.queue.filter((t) => t.source === 'WALK_IN').every((t) => t.status === 'CHECKED_IN')).toBe(true);
  });

  it('formats a readable table per doctor, the emergency row first for Dr. Smith', () => {
    for (const key of ['smith', 'jones', 'taylor'] as const) {
      const { name, view } = result.doctors[key];
      const table = formatQueueTable(name, view);
      const lines = table.split('\n');
      expect(lines[0]).toContain(name);
      expect(lines[0]).toMatch(/slot \d\d:\d\d-\d\d:\d\d/);
      expect(lines[0]).toContain(`capacity ${view.slot.capacity}`);
      expect(lines[0]).toContain(`active ${view.slot.activeCount}, available ${view.slot.available}`);
      expect(lines).toHaveLength(3 + view.queue.length);
    }

    const smith = formatQueueTable('Dr. Smith', result.doctors.smith.view);
    const rows = smith.split('\n').slice(3);
    expect(rows[0]).toMatch(/^\s*1\s+#\d+\s+EMERGENCY\s+1\s+CHECKED_IN\s+Grace Obi\s+over capacity$/);
    expect(rows.slice(1).every((row) => /\bONLINE\b/.test(row) && !row.includes('over capacity'))).toBe(true);
  });
});
