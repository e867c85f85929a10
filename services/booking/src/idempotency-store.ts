import { createHash } from 'node:crypto';
import type { Pool } from 'pg';

/** JSON with sorted keys, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export interface IdempotencyRecord {
  tokenId: string;
  requestHash: string;
}

export interface IdempotencyStore {
  /** Stores key -> tokenId unless the key exists; returns the record that holds after the call. */
  reserve(key: string, hash: string, tokenId: string, slotId: string): Promise<IdempotencyRecord & { created: boolean }>;
}

export function createIdempotencyStore(pool: Pool): IdempotencyStore {
  return {
    async reserve(key, hash, tokenId, slotId) {
      const inserted = await pool.query(
        `INSERT INTO idempotency_keys (key, request_hash, token_id, slot_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO NOTHING`,
        [key, hash, tokenId, slotId],
      );
      if (inserted.rowCount === 1) return { tokenId, requestHash: hash, created: true };
      const { rows } = await pool.query<{ token_id: string; request_hash: string }>(
        'SELECT token_id, request_hash FROM idempotency_keys WHERE key = $1',
        [key],
      );
      return { tokenId: rows[0].token_id, requestHash: rows[0].request_hash, created: false };
    },
  };
}
