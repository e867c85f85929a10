/**
 * Property tests explore new random cases on every developer run (a failure prints its seed);
 * CI (CI=true) uses one fixed seed, so a build is never red by chance and always reproduces.
 */
import fc from 'fast-check';

if (process.env.CI === 'true') fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261125) });
