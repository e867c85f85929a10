/** API keys: generated once, stored as SHA-256 hashes, verified with a short in-memory cache. */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { ROLES, type Role } from './roles';

export interface Identity {
  keyId: string;
  role: Role;
  /** null: every branch (admin keys, or AUTH=off). */
  branchId: string | null;
  /** Set for doctor-console keys bound to one doctor. */
  doctorId: string | null;
}

/** The identity every request gets when AUTH=off was chosen explicitly. */
export const AUTH_OFF_IDENTITY: Identity = { keyId: 'auth-off', role: 'admin', branchId: null, doctorId: null };

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface NewApiKey {
  role: Role;
  branchId: string | null;
  doctorId?: string | null;
  label?: string;
}

/** Creates a key and returns it in clear text: the only time anyone sees it. */
export async function createApiKey(pool: Pool, input: NewApiKey): Promise<{ identity: Identity; key: string }> {
  if (!ROLES.includes(input.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
  const id = randomBytes(6).toString('hex');
  const key = `opd_${id}_${randomBytes(24).toString('base64url')}`;
  await pool.query('INSERT INTO api_keys (id, key_hash, role, branch_id, doctor_id, label) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    hashApiKey(key),
    input.role,
    input.branchId,
    input.doctorId ?? null,
    input.label ?? null,
  ]);
  return { identity: { keyId: id, role: input.role, branchId: input.branchId, doctorId: input.doctorId ?? null }, key };
}

export async function revokeApiKey(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return rowCount === 1;
}

export interface KeyVerifier {
  verify(key: string): Promise<Identity | null>;
}

/**
 * Looks keys up by hash. Answers are cached for `cacheMs` so reads at thousands per second do not
 * each cost a query; a revocation takes effect within that time.
 */
export function createKeyVerifier(pool: Pool, options: { cacheMs: number }): KeyVerifier {
  const cache = new Map<string, { identity: Identity | null; expires: number }>();
  return {
    async verify(key) {
      if (!/^opd_[0-9a-f]{12}_[A-Za-z0-9_-]{20,64}$/.test(key)) return null;
      const hash = hashApiKey(key);
      const now = Date.now();
      const cached = cache.get(hash);
      if (cached && cached.expires > now) return cached.identity;
      const { rows } = await pool.query<{ id: string; role: Role; branch_id: string | null; doctor_id: string | null }>(
        'SELECT id, role, branch_id, doctor_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      );
      const row = rows[0];
      const identity = row ? { keyId: row.id, role: row.role, branchId: row.branch_id, doctorId: row.doctor_id } : null;
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { identity, expires: now + options.cacheMs });
      return identity;
    },
  };
}
