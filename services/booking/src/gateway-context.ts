import type { Pool } from 'pg';
import type { CommandBus } from './command-bus';
import type { IdempotencyStore } from './idempotency-store';

/** What the gateway's routes need, built once by buildApp. */
export interface GatewayContext {
  instanceId: string;
  pool: Pool;
  bus: CommandBus;
  idempotency: IdempotencyStore;
}
