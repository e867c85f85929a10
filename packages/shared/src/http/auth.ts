/**
 * Authentication for every service that faces clients: `Authorization: Bearer <key>` (or `?key=`
 * on GET, for browsers' EventSource and wall screens), a rate limit per key, and helpers that
 * turn the role table and the key's branch into 403 and 404 answers.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { AUTH_OFF_IDENTITY, createKeyVerifier, type Identity, type KeyVerifier } from '../auth/api-keys';
import { createRateLimiter, type RateLimiter } from '../auth/rate-limiter';
import type { AuthConfig } from '../config';
import { isAllowed, type Action } from '../auth/roles';
import { AppError } from '../errors';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}

export interface AuthOptions {
  /** 'off' only by explicit choice (AUTH=off): every request is then an admin of every branch. */
  mode: 'on' | 'off';
  verifier: KeyVerifier;
  limiter?: RateLimiter;
  /** Requests anyone may make without a key, e.g. public boards' redacted data. */
  isPublic?: (request: FastifyRequest, path: string) => boolean;
}

const ALWAYS_PUBLIC = new Set(['/healthz', '/readyz']);

/** Keys verified against PostgreSQL, limited per key in Redis: what every client-facing service uses. */
export function registerKeyAuth(
  app: FastifyInstance,
  deps: { pool: Pool; redis: Redis; auth: AuthConfig; redisKeyPrefix: string; isPublic?: AuthOptions['isPublic'] },
): void {
  registerAuth(app, {
    mode: deps.auth.mode,
    verifier: createKeyVerifier(deps.pool, { cacheMs: deps.auth.cacheMs }),
    limiter: createRateLimiter(deps.redis, { prefix: deps.redisKeyPrefix, perSecond: deps.auth.rateLimitPerSecond }),
    isPublic: deps.isPublic,
  });
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('identity', undefined as unknown as Identity);
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    if (ALWAYS_PUBLIC.has(path) || options.isPublic?.(request, path)) return;
    if (options.mode === 'off') {
      request.identity = AUTH_OFF_IDENTITY;
      return;
    }
    const key = presentedKey(request);
    if (!key) throw new AppError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>');
    const identity = await options.verifier.verify(key);
    if (!identity) throw new AppError('UNAUTHORIZED', 'Unknown or revoked API key');
    request.identity = identity;
    const wait = options.limiter ? await options.limiter.hit(identity.keyId) : 0;
    if (wait > 0) throw new AppError('RATE_LIMITED', 'Too many requests for this key; slow down', undefined, wait);
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (request.method === 'GET') {
    const key = (request.query as Record<string, unknown> | undefined)?.key;
    if (typeof key === 'string') return key;
  }
  return undefined;
}

export function requireAllowed(identity: Identity, action: Action): void {
  if (!isAllowed(identity.role, action)) {
    throw new AppError('FORBIDDEN', `A ${identity.role} key may not do this`, { role: identity.role, action: action.kind });
  }
}

/** True when the key may see this branch's data; other branches' data does not exist for it. */
export function canSeeBranch(identity: Identity, branchId: string): boolean {
  return identity.branchId === null || identity.branchId === branchId;
}
