/**
 * `npm run simulate`: replays the seed's day in the OPD through the public HTTP API.
 *
 *   npm run simulate                      # against http://127.0.0.1:8080 (or $OPD_URL)
 *   npm run simulate -- --url http://host:8080
 *   npm run simulate -- --day             # the full-day simulation (not implemented yet)
 *
 * Exit codes: 0 scenario held, 1 an expectation failed or the system is unreachable,
 * 2 usage (unknown flag, or --day for now).
 */
import { formatQueueTable, runSeedScenario, ScenarioError, type SeedResult } from './lib/seed-day';

const DEFAULT_URL = 'http://127.0.0.1:8080';

interface Options {
  url: string;
  day: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { url: process.env.OPD_URL || DEFAULT_URL, day: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--url') {
      const value = argv[++i];
      if (!value) usage('--url needs a value');
      options.url = value;
    } else if (arg.startsWith('--url=')) {
      options.url = arg.slice('--url='.length);
    } else if (arg === '--day') {
      options.day = true;
    } else if (arg === '--help' || arg === '-h') {
      options.help = true;
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  options.url = options.url.replace(/\/+$/, '');
  return options;
}

const HELP = `Usage: npm run simulate -- [--url <edge base URL>] [--day]

Replays the seed's day in the OPD through the public HTTP API: Dr. Smith (capacity 5),
Dr. Jones (4) and Dr. Taylor (6); Smith's slot is filled with 5 online bookings, a 6th is
refused, and an emergency is accepted at #1 on top of the full slot (elastic capacity).

  --url <url>   edge base URL (default: $OPD_URL or ${DEFAULT_URL})
  --day         full-day simulation (not implemented yet, see issue 4)`;

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

async function runDay(_url: string): Promise<number> {
  console.error('simulate --day: not implemented yet, see issue 4');
  return 2;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  if (options.day) return runDay(options.url);

  const notReady = await checkReady(options.url);
  if (notReady) {
    console.error(`Cannot reach the OPD token engine: ${notReady}.\nTo run the simulation, start the system with \`npm start\` (or pass --url / set OPD_URL), then run \`npm run simulate\` again.`);
    return 1;
  }
  return runSeed(options.url);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('simulate failed:', err);
    process.exit(1);
  },
);
