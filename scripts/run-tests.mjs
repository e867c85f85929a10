#!/usr/bin/env node
// `npm test`: makes sure Kafka runs (PostgreSQL and Redis are the machine's), runs every jest
// suite once with JSON results, and ends with the plain line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });

if (process.env.TESTCONTAINERS !== '1') {
  const kafka = run('bash', ['scripts/kafka/start.sh']);
  if (kafka.status !== 0) {
    console.error('Kafka did not start; see .cache/kafka/logs/server.log');
    process.exit(1);
  }
}

mkdirSync(path.join(root, '.cache'), { recursive: true });
const resultsFile = path.join(root, '.cache', 'jest-results.json');
const jest = run('npx', ['jest', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)]);

let summary = '0 passed, 0 failed';
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  summary = `${results.numPassedTests} passed, ${results.numFailedTests} failed`;
  if (results.numPendingTests) summary += `, ${results.numPendingTests} skipped`;
} catch {
  console.error('jest wrote no results');
}
console.log(summary);
process.exit(jest.status ?? 1);
