/**
 * `npm run chaos`: drives bookings and cancellations over HTTP for a bounded time while it kills
 * (SIGKILL) and restarts an allocator, restarts the Kafka broker and deletes the run's Redis keys;
 * then checks PostgreSQL and the API against every answer. Starts its own services (needs
 * PostgreSQL, Redis and Kafka running: `npm run kafka:start`).
 *
 *   npm run chaos                                  # 30 s of load, with a broker restart
 *   npm run chaos -- --duration 20                 # seconds of load
 *   npm run chaos -- --no-broker-restart           # leave the (shared) broker alone
 *   npm run chaos -- --restart-postgres            # also restart the machine's PostgreSQL once
 *   npm run chaos -- --restart-delay 12            # seconds a killed allocator stays down (default 1)
 *
 * Exit codes: 0 no violation, 1 a violation (or the system never became ready), 2 usage.
 */
import { formatReport, runChaos } from './chaos/run-chaos';

function usage(message?: string): never {
  if (message) console.error(message);
  console.error('usage: npm run chaos -- [--duration <seconds>] [--no-broker-restart] [--restart-postgres] [--restart-delay <seconds>]');
  process.exit(2);
}

function parseArgs(argv: string[]): { durationSeconds: number; restartBroker: boolean; restartPostgres: boolean; restartDelaySeconds: number } {
  const options = { durationSeconds: 30, restartBroker: true, restartPostgres: false, restartDelaySeconds: 1 };
  const seconds = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!value || !Number.isFinite(n) || n < min) usage(`${flag} needs a number of seconds >= ${min}, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [arg, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[(i += 1)];
    if (arg === '--duration') options.durationSeconds = seconds(arg, value(), 1);
    else if (arg === '--restart-delay') options.restartDelaySeconds = seconds(arg, value(), 0);
    else if (arg === '--no-broker-restart' && inline === undefined) options.restartBroker = false;
    else if (arg === '--restart-postgres' && inline === undefined) options.restartPostgres = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument: ${argv[i]}`);
  }
  return options;
}

async function main(): Promise<void> {
  const { durationSeconds, restartBroker, restartPostgres, restartDelaySeconds } = parseArgs(process.argv.slice(2));
  console.log(
    `Chaos: ${durationSeconds} s of load, ${restartBroker ? 'with' : 'without'} a broker restart; killed allocators restart after ${restartDelaySeconds} s`,
  );
  const report = await runChaos({
    durationMs: durationSeconds * 1000,
    restartBroker,
    restartPostgres,
    allocatorRestartDelayMs: restartDelaySeconds * 1000,
  });
  console.log('');
  console.log(formatReport(report));
  process.exit(report.ready && report.violations.length === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
