/**
 * `npm start` runs this after the migrations: one demo key per role for branch "main" (admin: all
 * branches), kept in .cache/demo-keys.json so a restart reuses them while they are still valid.
 * Printed so a newcomer can call the API at once. Demo keys are for a local machine only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { ROLES, createApiKey, createKeyVerifier, parseEnv, type Role } from '@opd/shared';
import { DEMO_KEYS_FILE } from './lib/api-key';

type DemoKeys = Record<string, { key: string; role: Role; branchId: string | null }>;

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  if (env.AUTH === 'off') {
    console.log('AUTH=off: the API takes no keys (chosen explicitly).');
    return;
  }
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 1 });
  try {
    const verifier = createKeyVerifier(pool, { cacheMs: 0 });
    let keys: DemoKeys = existsSync(DEMO_KEYS_FILE) ? JSON.parse(readFileSync(DEMO_KEYS_FILE, 'utf8')) : {};
    const valid = await Promise.all(ROLES.map(async (role) => keys[role] && (await verifier.verify(keys[role].key)) !== null));
    if (!valid.every(Boolean)) {
      keys = {};
      for (const role of ROLES) {
        const branchId = role === 'admin' ? null : 'main';
        const { key } = await createApiKey(pool, { role, branchId, label: 'demo key from npm start' });
        keys[role] = { key, role, branchId };
      }
      mkdirSync(path.dirname(DEMO_KEYS_FILE), { recursive: true });
      writeFileSync(DEMO_KEYS_FILE, JSON.stringify(keys, null, 2), { mode: 0o600 });
    }
    console.log('Demo API keys (send as "Authorization: Bearer <key>"; also in .cache/demo-keys.json):');
    for (const role of ROLES) console.log(`  ${role.padEnd(8)} ${(keys[role].branchId ?? 'all branches').padEnd(13)} ${keys[role].key}`);
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
