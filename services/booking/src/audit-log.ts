/**
 * The audit log: every command the gateway answered, with the key, role, branch, time and result.
 * Rows are buffered and written in one multi-row insert every quarter second, off the hot path.
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

interface AuditRow {
  at: string;
  key_id: string;
  role: string;
  branch_id: string | null;
  method: string;
  route: string;
  slot_id: string | null;
  token_id: string | null;
  status: number;
  error_code: string | null;
}

export interface AuditLog {
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function registerAuditLog(app: FastifyInstance, pool: Pool, logger: Logger): AuditLog {
  let buffer: AuditRow[] = [];
  const errorCodes = new WeakMap<object, string>();

  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const code = /"code":"([A-Z_]+)"/.exec(payload)?.[1];
      if (code) errorCodes.set(request, code);
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || !request.identity) return;
    const target = request.auditTarget ?? {};
    buffer.push({
      at: new Date().toISOString(),
      key_id: request.identity.keyId,
      role: request.identity.role,
      branch_id: target.branchId ?? request.identity.branchId,
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0],
      slot_id: target.slotId ?? null,
      token_id: target.tokenId ?? null,
      status: reply.statusCode,
      error_code: errorCodes.get(request) ?? null,
    });
  });

  async function flush(): Promise<void> {
    if (buffer.length === 0) return;
    const rows = buffer;
    buffer = [];
    try {
      await pool.query(
        `INSERT INTO audit_log (at, key_id, role, branch_id, method, route, slot_id, token_id, status, error_code)
         SELECT at, key_id, role, branch_id, method, route, slot_id, token_id, status, error_code
           FROM jsonb_to_recordset($1::jsonb) AS a(at timestamptz, key_id text, role text, branch_id text, method text,
                route text, slot_id text, token_id text, status int, error_code text)`,
        [JSON.stringify(rows)],
      );
    } catch (err) {
      logger.error({ err, rows: rows.length }, 'audit rows could not be written');
    }
  }
  const timer = setInterval(() => void flush(), 250);
  return {
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
