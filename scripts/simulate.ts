/**
 * `npm run simulate`: replays the seed's day in the OPD through the public HTTP API.
 *
 *   npm run simulate                      # against http://127.0.0.1:8080 (or $OPD_URL)
 *   npm run simulate -- --url http://host:8080
 *   npm run simulate -- --day             # a full simulated day (issue 4), seeded: --seed 42
 *   npm run simulate -- --day --seed 7 --out .cache/sim-day.svg --slots 4 --verbose
 *
 * Exit codes: 0 scenario held, 1 an expectation failed or the system is unreachable,
 * 2 usage (unknown flag or bad value).
 */
import { formatQueueTable, runSeedScenario, ScenarioError, type SeedResult } from './lib/seed-day';
import { DayError } from './lib/day/api';
import { writeDayChart } from './lib/day/chart';
import { formatDayReport } from './lib/day/report';
import { DEFAULT_DAY_CONFIG, runDaySimulation, type DayResult } from './lib/day/simulation';

const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_OUT = '.cache/sim-day.svg';

interface Options {
  url: string;
  day: boolean;
  help: boolean;
  /** --day only. */
  seed: number;
  out: string;
  slots: number;
  verbose: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    url: process.env.OPD_URL || DEFAULT_URL,
    day: false,
    help: false,
    seed: DEFAULT_DAY_CONFIG.seed,
    out: DEFAULT_OUT,
    slots: DEFAULT_DAY_CONFIG.slotsPerDoctor,
    verbose: false,
  };
  const dayOnly: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') usage(`${flag} needs a value`);
      return v;
    };
    if (flag === '--url') {
      options.url = value();
    } else if (flag === '--seed') {
      options.seed = integer(flag, value(), 0, 2 ** 32 - 1);
      dayOnly.push(flag);
    } else if (flag === '--out') {
      options.out = value();
      dayOnly.push(flag);
    } else if (flag === '--slots') {
      options.slots = integer(flag, value(), 1, 8);
      dayOnly.push(flag);
    } else if (arg === '--verbose' || arg === '-v') {
      options.verbose = true;
      dayOnly.push(arg);
    } else if (arg === '--day') {
      options.day = true;
    } else if (arg === '--help' || arg === '-h') {
      options.help = true;
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  options.url = options.url.replace(/\/+$/, '');
  if (!options.day && !options.help && dayOnly.length > 0) usage(`${dayOnly[0]} goes with --day`);
  return options;
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) usage(`${flag} must be an integer from ${min} to ${max}, got ${raw}`);
  return n;
}

const HELP = `Usage: npm run simulate -- [--url <edge base URL>]
       npm run simulate -- --day [--seed <n>] [--out <file.svg>] [--slots <n>] [--verbose] [--url <edge base URL>]

Replays the seed's day in the OPD through the public HTTP API: Dr. Smith (capacity 5),
Dr. Jones (4) and Dr. Taylor (6); Smith's slot is filled with 5 online bookings, a 6th is
refused, and an emergency is accepted at #1 on top of the full slot (elastic capacity).

  --url <url>   edge base URL (default: $OPD_URL or ${DEFAULT_URL})

--day runs a full simulated day instead: the three doctors get ${DEFAULT_DAY_CONFIG.slotsPerDoctor} consecutive slots each
(simulated 60 min from 09:00; created starting now), bookings before the day (online,
follow-up), walk-ins, paid priority, same-day online and emergencies during it, check-ins,
cancellations, no-shows, one doctor called away (delay), one capacity change, and the doctors
calling and seeing patients. A discrete-event simulation on a simulated clock drives the real
system through the API; the same seed gives the same statistics. Prints per doctor and per
source: served, mean and p90 wait, overflow emergencies, no-shows, cancellations, refusals;
writes an SVG chart of each doctor's queue length over the day.

  --seed <n>    PRNG seed (default ${DEFAULT_DAY_CONFIG.seed})
  --out <file>  chart path (default ${DEFAULT_OUT})
  --slots <n>   slots per doctor, 1-8 (default ${DEFAULT_DAY_CONFIG.slotsPerDoctor})
  --verbose     print every event, not only the notable ones`;

function usage(message: string): never {
  console.error(`simulate: ${message}\n\n${HELP}`);
  process.exit(2);
}

async function checkReady(url: string): Promise<string | null> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    if (response.ok) return null;
    return `${url}/readyz answered ${response.status} ${(await response.text()).slice(0, 200)}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return `${url}/readyz is not reachable (${cause})`;
  }
}

// ---- The seed scenario ----

async function runSeed(url: string): Promise<number> {
  console.log(`Replaying the seed's day in the OPD against ${url}\n`);
  let result: SeedResult;
  try {
    result = await runSeedScenario(url, (line) => console.log(`  ${line}`));
  } catch (err) {
    if (err instanceof ScenarioError) {
      console.error(`\nScenario aborted: ${err.message}`);
      return 1;
    }
    throw err;
  }

  for (const key of ['smith', 'jones', 'taylor'] as const) {
    const { name, view } = result.doctors[key];
    console.log(`\n${formatQueueTable(name, view)}`);
  }

  const { facts } = result;
  console.log('\nSummary');
  if (result.ok) {
    console.log(`  Emergency placed at #${facts.emergencyViewPosition} with ${facts.smithOnlineKept} online bookings kept: elastic capacity`);
    console.log(`  6th online booking refused: ${facts.refused.status} ${facts.refused.code} (capacity is a hard limit for everyone else)`);
    console.log(`  Dr. Jones and Dr. Taylor serve by weight: PAID_PRIORITY, FOLLOW_UP, ONLINE, WALK_IN (ties in arrival order)`);
    console.log(`  ${result.checks.length} expectations held.`);
    return 0;
  }
  const failed = result.checks.filter((c) => !c.ok);
  console.log(
    `  Emergency at #${facts.emergencyViewPosition ?? '?'} (booked as #${facts.emergencyPosition ?? '?'}, overCapacity ${facts.emergencyOverCapacity}), ` +
      `${facts.smithOnlineKept} of 5 online bookings kept, 6th online booking -> ${facts.refused.status} ${facts.refused.code ?? ''}`,
  );
  console.error(`\n${failed.length} of ${result.checks.length} expectations FAILED:`);
  for (const c of failed) console.error(`  - ${c.name}: ${c.detail}`);
  return 1;
}

// ---- The full day (issue 4) ----

async function runDay(options: Options): Promise<number> {
  const { url, seed, out, slots, verbose } = options;
  console.log(`Simulating a day in the OPD against ${url} (seed ${seed}, ${slots} slot${slots === 1 ? '' : 's'} per doctor)\n`);
  let result: DayResult;
  try {
    result = await runDaySimulation(url, { seed, slotsPerDoctor: slots }, (line, kind) => {
      if (kind === 'notable' || verbose) console.log(`  ${line}`);
    });
  } catch (err) {
    if (err instanceof DayError) {
      console.error(`\nDay simulation aborted: ${err.message}`);
      return 1;
    }
    throw err;
  }
  console.log(`\n${formatDayReport(result)}`);
  writeDayChart(out, result);
  console.log(`\nChart: ${out}`);
  return result.checks.every((c) => c.ok) ? 0 : 1;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const notReady = await checkReady(options.url);
  if (notReady) {
    console.error(`Cannot reach the OPD token engine: ${notReady}.\nTo run the simulation, start the system with \`npm start\` (or pass --url / set OPD_URL), then run \`npm run simulate${options.day ? ' -- --day' : ''}\` again.`);
    return 1;
  }
  return options.day ? runDay(options) : runSeed(options.url);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('simulate failed:', err);
    process.exit(1);
  },
);
