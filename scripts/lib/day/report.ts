/** The printed summary of a simulated day: per doctor and per source tables, then the checks. */
import type { DayResult } from './simulation';
import { clock } from './simulation';
import { formatStatsTable, SOURCES } from './stats';

export function formatDayReport(result: DayResult): string {
  const { stats, config } = result;
  const lines: string[] = [];
  lines.push(
    `Day ${clock(result.simStart)}-${clock(result.simEnd)} (simulated): ${result.tokens.length} tokens, ${result.refusals.length} refused, ${result.events} events`,
  );
  lines.push(`Real run: ${(result.realMs / 1000).toFixed(1)} s, ${result.requests} HTTP requests (view polls included)`);
  lines.push('Waits are simulated minutes from arrival at the desk to the doctor\'s call (served patients only).');
  lines.push('');
  lines.push('Per doctor');
  lines.push(formatStatsTable('Doctor', result.doctors.map((d) => [`${d.name} (${d.capacity}/slot)`, stats.byDoctor[d.key]]), stats.total));
  lines.push('');
  lines.push('Per source');
  lines.push(formatStatsTable('Source', SOURCES.map((s) => [s, stats.bySource[s]]), stats.total));
  lines.push('');
  lines.push('Slots (places used at most / capacity)');
  for (const doctor of result.doctors) {
    const cells = doctor.slots.map((s) => {
      const over = s.maxActive > s.capacity ? ` (+${s.maxActive - s.capacity} em.)` : '';
      const delay = s.delayMinutes ? `, ${s.delayMinutes} min late` : '';
      return `${clock(s.simStart)} ${Math.min(s.maxActive, s.capacity)}/${s.capacity}${over}${delay}`;
    });
    lines.push(`  ${doctor.name.padEnd(11)} ${cells.join('   ')}`);
  }
  lines.push('');
  const failed = result.checks.filter((c) => !c.ok);
  lines.push(`Checks (seed ${config.seed}): ${result.checks.length - failed.length} of ${result.checks.length} held`);
  for (const c of result.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return lines.join('\n');
}
