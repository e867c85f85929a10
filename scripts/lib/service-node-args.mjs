// Node flags every service process runs with, for `npm start` and the bench's scale-out processes.
// An 8 MB semi-space (V8's default is 16) and an old space that grows to 1.5x the live data after a
// full collection (V8's heuristic allows up to 4x, which took RSS past 200 MB under load): the same
// throughput in `npm run bench`; see docs/performance.md ("Memory"). --enable-source-maps keeps
// stack traces pointing at the TypeScript sources of the bundles.
export const SERVICE_NODE_ARGS = ['--max-semi-space-size=8', '--heap-growing-percent=50', '--enable-source-maps'];
