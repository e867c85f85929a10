#!/usr/bin/env node
// `npm start`: Kafka (if not running), migrations, then the allocator, query service, booking
// gateway and edge as child processes. Ctrl-C (or SIGTERM) stops them all gracefully.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_ARGS } from './lib/service-node-args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function runOrExit(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

runOrExit('bash', ['scripts/kafka/start.sh']);
runOrExit(tsx, ['packages/shared/src/db/migrate-cli.ts']);
runOrExit(tsx, ['scripts/demo-keys.ts']);
runOrExit(process.execPath, ['scripts/build.mjs']);

const services = ['allocator', 'query', 'booking', 'edge'];
// Extra node flags for every service, after the defaults so they win, e.g.
// SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (node refuses --cpu-prof in NODE_OPTIONS).
const extraNodeArgs = (env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const children = services.map((name) => {
  const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, ...extraNodeArgs, `services/${name}/dist/main.js`], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the others`);
      stop(1);
    }
  });
  return child;
});

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.on('exit', r) : r())))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const port = (name, fallback) => env[name] ?? fallback;
const edge = `http://127.0.0.1:${port('EDGE_PORT', 8080)}`;
const deadline = Date.now() + 90_000;
for (;;) {
  try {
    const response = await fetch(`${edge}/readyz`);
    if (response.ok) break;
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) {
    console.error(`The system did not become ready; see ${edge}/readyz`);
    stop(1);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
if (!stopping) {
  console.log(`
OPD token engine is up.
  API (edge)        ${edge}         e.g. curl ${edge}/readyz
  booking gateway   http://127.0.0.1:${port('BOOKING_PORT', 3001)}
  query service     http://127.0.0.1:${port('QUERY_PORT', 3002)}
  allocator         http://127.0.0.1:${port('ALLOCATOR_PORT', 3003)}   (health only)
  Kafka             ${env.KAFKA_BROKERS ?? '127.0.0.1:9092'}
Press Ctrl-C to stop.`);
}
