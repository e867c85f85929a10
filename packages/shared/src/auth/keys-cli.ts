/**
 * `npm run keys -- create --branch <id|all> --role <role> [--doctor <id>] [--label <text>]`
 * `npm run keys -- list`     `npm run keys -- revoke <key id>`
 */
import { Pool } from 'pg';
import { parseEnv } from '../config';
import { migrate } from '../db/migrate';
import { createApiKey, revokeApiKey } from './api-keys';
import { ROLES, type Role } from './roles';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const env = parseEnv(process.env);
  await migrate({ databaseUrl: env.DATABASE_URL });
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 1 });
  try {
    if (command === 'create') {
      const role = option(args, 'role') as Role | undefined;
      const branch = option(args, 'branch');
      if (!role || !ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      if (!branch) throw new Error('--branch is required (a branch id, or "all" for an admin key)');
      if (branch === 'all' && role !== 'admin') throw new Error('only admin keys may cover all branches');
      const { identity, key } = await createApiKey(pool, {
        role,
        branchId: branch === 'all' ? null : branch,
        doctorId: option(args, 'doctor') ?? null,
        label: option(args, 'label'),
      });
      console.log(`created ${identity.role} key ${identity.keyId} for ${identity.branchId ?? 'all branches'}`);
      console.log(key);
      console.log('Keep it now: only its hash is stored.');
      return 0;
    }
    if (command === 'list') {
      const { rows } = await pool.query(
        'SELECT id, role, branch_id, doctor_id, label, created_at, revoked_at FROM api_keys ORDER BY created_at',
      );
      for (const r of rows) {
        const state = r.revoked_at ? `revoked ${r.revoked_at.toISOString()}` : 'active';
        console.log(`${r.id}  ${r.role.padEnd(7)}  ${(r.branch_id ?? 'all').padEnd(12)}  ${r.doctor_id ?? '-'}  ${state}  ${r.label ?? ''}`);
      }
      return 0;
    }
    if (command === 'revoke' && args[0]) {
      const done = await revokeApiKey(pool, args[0]);
      console.log(done ? `revoked ${args[0]}` : `no active key ${args[0]}`);
      return done ? 0 : 1;
    }
    console.error('usage: npm run keys -- create --branch <id|all> --role <role> [--doctor <id>] [--label <text>] | list | revoke <id>');
    return 2;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
