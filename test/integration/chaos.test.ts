/**
 * The short chaos run (`npm run chaos` is the long one): its own services as child processes,
 * bookings and cancellations over HTTP while an allocator is SIGKILLed and restarted and the run's
 * Redis keys are deleted; then PostgreSQL and the API are checked against every answer. The broker
 * is shared by the test files running in parallel, so this version never restarts it.
 */
import { formatReport, runChaos, type ChaosReport } from '../../scripts/chaos/run-chaos';

jest.setTimeout(120_000);

describe('chaos (short)', () => {
  let report: ChaosReport;
  const timeline: string[] = [];

  beforeAll(async () => {
    report = await runChaos({
      durationMs: 8000,
      restartBroker: false,
      concurrency: 8,
      settleTimeoutMs: 30_000,
      log: (line) => timeline.push(line),
    });
  });

  it('keeps every invariant while allocators are killed and the read model is flushed', () => {
    const summary = `${timeline.join('\n')}\n\n${formatReport(report)}`;
    expect({ ready: report.ready, violations: report.violations, summary }).toEqual({ ready: true, violations: [], summary });
  });

  it('really did the faults and the load', () => {
    const kinds = report.faults.map((f) => f.kind);
    expect(kinds.filter((k) => k === 'allocator-kill').length).toBeGreaterThanOrEqual(1);
    expect(kinds.filter((k) => k === 'redis-flush').length).toBeGreaterThanOrEqual(1);
    expect(kinds).not.toContain('broker-stop');
    // A floor, not a speed target: enough answers that the checks mean something, even on a busy machine.
    expect(report.counts.answers201Checked).toBeGreaterThanOrEqual(15);
    expect(report.counts.cancellationsChecked).toBeGreaterThanOrEqual(2);
    expect(report.counts.viewsChecked).toBe(report.slots);
  });
});
