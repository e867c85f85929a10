/**
 * Environment parsing, done once in each service's main.ts. Everything below main.ts receives
 * a typed config object and never reads process.env.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const csv = z
  .string()
  .min(1)
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean));

const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);

/** One URL, or several separated by commas (kept as the raw string; the user splits it). */
const urlList = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      const parts = value.split(',').map((s) => s.trim());
      return parts.every((part) => protocols.includes(new URL(part).protocol));
    } catch {
      return false;
    }
  }, `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL, or several separated by commas`);

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const EnvSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  /** Fixed at topic creation: adding partitions later would move slots between writers. */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/opd'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('opd:'),
  BOOKING_PORT: port(3001),
  QUERY_PORT: port(3002),
  ALLOCATOR_PORT: port(3003),
  EDGE_PORT: port(8080),
  /** Booking gateway(s) behind the edge: several, comma-separated, are used in turn (round-robin). */
  BOOKING_URL: urlList(['http:', 'https:']).default('http://127.0.0.1:3001'),
  QUERY_URL: url(['http:', 'https:']).default('http://127.0.0.1:3002'),
  ALLOCATOR_URL: url(['http:', 'https:']).default('http://127.0.0.1:3003'),
  /** Requests the edge forwards at once before it answers 503 + Retry-After (0 = no limit). */
  EDGE_MAX_IN_FLIGHT_WRITES: z.coerce.number().int().min(0).max(1_000_000).default(256),
  EDGE_MAX_IN_FLIGHT_READS: z.coerce.number().int().min(0).max(1_000_000).default(1024),
  /** The edge answers a slot view from memory until the slot changes, for at most this long (0 = off). */
  EDGE_VIEW_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Bytes of views the edge keeps at most. */
  EDGE_VIEW_CACHE_MAX_BYTES: z.coerce.number().int().min(0).max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
  /** How long the gateway waits for the allocator before answering 202. */
  REPLY_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(5000),
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  /** API keys are required unless AUTH=off is chosen explicitly. */
  AUTH: z.enum(['on', 'off']).default('on'),
  /** How long a verified key is trusted before it is looked up again (revocation delay). */
  AUTH_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** Requests per second per API key, across all instances; 0 turns the limit off. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(100),
  /** Browser origins allowed to call the API (the online portal), comma-separated. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean)),
  /** IANA zone of the branch: the day of token labels and of `date=` filters. */
  TIME_ZONE: z
    .string()
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-CA', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Asia/Kolkata')
    .default('UTC'),
});
export type Env = z.infer<typeof EnvSchema>;

/** Parses the environment; a bad value fails start-up with a message naming each variable. */
export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  partitions: number;
}

export interface RedisConfig {
  url: string;
  keyPrefix: string;
}

export function kafkaConfigFromEnv(env: Env, clientId: string): KafkaConfig {
  return { brokers: env.KAFKA_BROKERS, clientId, topicPrefix: env.KAFKA_TOPIC_PREFIX, partitions: env.KAFKA_PARTITIONS };
}

export interface AuthConfig {
  mode: 'on' | 'off';
  cacheMs: number;
  rateLimitPerSecond: number;
}

export function authConfigFromEnv(env: Env): AuthConfig {
  return { mode: env.AUTH, cacheMs: env.AUTH_CACHE_MS, rateLimitPerSecond: env.RATE_LIMIT_PER_SECOND };
}
