#!/usr/bin/env node
// Bundles each service into services/<name>/dist/main.js with esbuild: `npm start` runs plain
// JavaScript (no TypeScript compiler in the process: less memory, faster start). Tests and the
// development loop keep running the TypeScript sources directly.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const services = ['allocator', 'booking', 'query', 'edge'];

await Promise.all(
  services.map((name) =>
    build({
      entryPoints: [path.join(root, 'services', name, 'src', 'main.ts')],
      outfile: path.join(root, 'services', name, 'dist', 'main.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      // Maps without the sources' text, and whitespace/syntax minified (names kept): stack traces
      // still point at the TypeScript lines, and each process holds ~30-45 MB less (the map is
      // loaded whole by --enable-source-maps). Measured in docs/performance.md.
      sourcemap: true,
      sourcesContent: false,
      minifyWhitespace: true,
      minifySyntax: true,
      // pg's optional native binding is not installed (pg falls back to JavaScript); the shared
      // package's manifest is found at run time, to locate its migrations.
      external: ['pg-native', '@opd/shared/package.json'],
      logLevel: 'warning',
    }),
  ),
);
console.log(`built ${services.map((s) => `services/${s}/dist/main.js`).join(', ')}`);
