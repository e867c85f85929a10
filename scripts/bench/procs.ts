/**
 * The services' processes, found by command line (`services/<name>/dist/main.js` or `src/main.ts`, started from
 * this checkout; the tsx launcher wrapper is skipped), with their peak RSS (VmHWM) and CPU time.
 * Linux only (/proc); elsewhere the lists are empty.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface Proc {
  pid: number;
  name: string;
}

const TICKS_PER_SECOND = 100;

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Service processes of the checkout at `root`; plus Kafka, PostgreSQL and Redis (whoever runs them). */
export function findProcesses(root: string): Proc[] {
  const found: Proc[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return found;
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    const args = cmdline(pid);
    if (args.length === 0) continue;
    const joined = args.join(' ');
    const service = /services\/([a-z-]+)\/(?:src\/main\.ts|dist\/main\.js)/.exec(joined);
    if (service) {
      if (args.some((a) => a.endsWith(path.join('.bin', 'tsx')))) continue; // the launcher, not the service
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        continue;
      }
      if (path.resolve(cwd) !== path.resolve(root)) continue;
      found.push({ pid, name: service[1] });
    } else if (/kafka\.Kafka\b/.test(joined)) found.push({ pid, name: 'kafka' });
    else if (/^postgres/.test(args[0]) || /\/postgres$/.test(args[0])) found.push({ pid, name: 'postgres' });
    else if (/redis-server/.test(args[0])) found.push({ pid, name: 'redis' });
  }
  return found;
}

/** Peak resident set size (VmHWM) in MB, or null. */
export function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function boxTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    const total = line.reduce((a, b) => a + b, 0);
    return { busy: total - line[3] - (line[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU used per process group between start() and stop(), as % of one core. */
export function cpuMeter(procs: Proc[]) {
  const before = new Map(procs.map((p) => [p.pid, cpuTicks(p.pid)]));
  const box = boxTicks();
  const self = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const byName: Record<string, number> = {};
    for (const p of procs) {
      const now = cpuTicks(p.pid);
      // A process that ended meanwhile (a PostgreSQL backend) counts nothing rather than minus its past.
      if (now === 0) continue;
      byName[p.name] = (byName[p.name] ?? 0) + (now - (before.get(p.pid) ?? 0));
    }
    const out: Record<string, number> = {};
    for (const [name, ticks] of Object.entries(byName)) out[name] = Math.round((ticks / TICKS_PER_SECOND / seconds) * 100);
    const used = process.cpuUsage(self);
    out['bench (this process)'] = Math.round(((used.user + used.system) / 1e6 / seconds) * 100);
    const after = boxTicks();
    const cores = after.total > box.total ? ((after.total - box.total) / TICKS_PER_SECOND / seconds) : 0;
    out['whole box busy'] = cores > 0 ? Math.round(((after.busy - box.busy) / (after.total - box.total)) * cores * 100) : 0;
    return out;
  };
}
