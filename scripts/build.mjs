#!/usr/bin/env node
// Bundles each service into services/<name>/dist/main.js with esbuild: `npm start` runs plain
// JavaScript (no TypeScript compiler in the process: less memory, faster start). Tests and the
// development loop keep running the TypeScript sources directly.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const services = ['allocator', 'booking', 'query', 'edge'];

// Third-party packages stay in node_modules and are loaded by require as usual; only our own code
// (the service and @opd/shared) is bundled. So the source map covers our code alone: with
// --enable-source-maps, Node parses a map whole the first time a stack trace is formatted, and a
// map of every dependency cost each process ~40 MB of heap (measured in docs/performance.md).
const ownCodeOnly = {
  name: 'own-code-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@opd/') ? undefined : { path: args.path, external: true }));
  },
};

await Promise.all(
  services.map((name) =>
    build({
      entryPoints: [path.join(root, 'services', name, 'src', 'main.ts')],
      outfile: path.join(root, 'services', name, 'dist', 'main.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      sourcesContent: false,
      plugins: [ownCodeOnly],
      // The shared package's manifest is found at run time, to locate its migrations.
      external: ['@opd/shared/package.json'],
      logLevel: 'warning',
    }),
  ),
);
console.log(`built ${services.map((s) => `services/${s}/dist/main.js`).join(', ')}`);
