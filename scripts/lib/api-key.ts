/**
 * The key the scripts (simulate, bench) send: OPD_API_KEY, else the demo admin key that
 * `npm start` wrote to .cache/demo-keys.json. With AUTH=off no key is needed and none is sent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const DEMO_KEYS_FILE = path.resolve(__dirname, '..', '..', '.cache', 'demo-keys.json');

let cached: string | null | undefined;

export function scriptApiKey(): string | null {
  if (cached !== undefined) return cached;
  cached = process.env.OPD_API_KEY ?? null;
  if (!cached && existsSync(DEMO_KEYS_FILE)) {
    const keys = JSON.parse(readFileSync(DEMO_KEYS_FILE, 'utf8')) as Record<string, { key: string }>;
    cached = keys.admin?.key ?? null;
  }
  return cached;
}

export function authHeaders(): Record<string, string> {
  const key = scriptApiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}
