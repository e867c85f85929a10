import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { Pool as HttpPool } from 'undici';
import { AppError, createHttpApp, registerHealthRoutes } from '@opd/shared';
import { registerBrowserPolicy } from './browser-policy';
import { createViewCache, type CachedAnswer, type ViewCache } from './view-cache';
import { listenForViewChanges, type ViewInvalidation } from './view-invalidation';

export interface EdgeConfig {
  /** One booking gateway, or several separated by commas: writes go to them in turn. */
  bookingUrl: string;
  queryUrl: string;
  allocatorUrl: string;
  /** Browser origins (the online portal) allowed to call the API. */
  corsOrigins: string[];
  /**
   * Requests forwarded and not yet answered by the service behind, per kind (0 = no limit).
   * Past it the edge answers 503 UNAVAILABLE with Retry-After at once: under overload a client
   * learns to retry in a second instead of waiting in a queue that only grows (and holds memory).
   * Display streams are not counted: they stay open by design.
   */
  maxInFlight?: { writes: number; reads: number };
  /**
   * Slot views (`GET /api/tokens/view/{slotId}`) answered from memory until the slot changes or
   * `maxAgeMs` passes; needs `deps.redis` to hear the changed slot ids on `channel`. maxAgeMs 0 = off.
   */
  viewCache?: { maxAgeMs: number; maxBytes: number; channel: string };
}

const DEFAULT_MAX_IN_FLIGHT = { writes: 256, reads: 1024 };

export interface EdgeDeps {
  logger: Logger;
  /** For the view cache's change channel only. */
  redis?: Redis;
}

/** SSE paths (`/api/slots/{id}/stream`, `/api/branches/{id}/stream`), query string allowed. */
const STREAM_PATH = /^\/api\/(slots|branches)\/[^/?]+\/stream(\?|$)/;

/** A slot view, with at most a query string (`?public=1`, `?key=`). */
const VIEW_PATH = /^\/api\/tokens\/view\/([^/?]+)(\?|$)/;

/** The slot a cacheable view request reads, or null when the request is not one. */
function viewSlotId(request: FastifyRequest): string | null {
  if (request.method !== 'GET') return null;
  const raw = VIEW_PATH.exec(request.url)?.[1];
  if (raw === undefined) return null;
  try {
    // Decoded as the query service reads it, so that change messages (decoded ids) match.
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer', 'host', 'content-length']);

/**
 * The single client origin: reads (GET, HEAD) go to the query service, writes to the booking
 * gateway. Bodies pass through untouched; the 64 KiB limit is enforced here first.
 */
export async function buildApp(config: EdgeConfig, deps: EdgeDeps): Promise<FastifyInstance> {
  const app = createHttpApp(deps.logger);
  const upstream = {
    booking: config.bookingUrl
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean)
      .map((url) => new HttpPool(url, { connections: 64, pipelining: 1 })),
    query: new HttpPool(config.queryUrl, { connections: 64, pipelining: 1 }),
    allocator: new HttpPool(config.allocatorUrl, { connections: 2 }),
    // Server-Sent Events hold a connection each for as long as a screen is open: their own pool,
    // without a connection limit, so streams never starve ordinary reads. A stream that stays
    // silent past several 15 s keep-alives is dead.
    streams: new HttpPool(config.queryUrl, { bodyTimeout: 60_000 }),
  };

  // Pass every body through as bytes; the services behind validate it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const upstreamReady = (pool: HttpPool) => async () => {
    const response = await pool.request({ method: 'GET', path: '/readyz' });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`not ready (${response.statusCode})`);
  };
  // Round-robin over the gateways: any instance can take any write (replies come back to the
  // instance that published the command, by its instance id).
  let nextBooking = 0;
  const bookingPool = () => {
    const pool = upstream.booking[nextBooking];
    nextBooking = (nextBooking + 1) % upstream.booking.length;
    return pool;
  };
  registerHealthRoutes(app, {
    booking: async () => {
      await Promise.all(upstream.booking.map((pool) => upstreamReady(pool)()));
    },
    query: upstreamReady(upstream.query),
    allocator: upstreamReady(upstream.allocator),
  });

  const maxInFlight = config.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const inFlight = { writes: 0, reads: 0 };

  const viewCache: ViewCache | null =
    config.viewCache && config.viewCache.maxAgeMs > 0 && deps.redis ? createViewCache(config.viewCache) : null;
  let invalidation: ViewInvalidation | null = null;
  if (viewCache && deps.redis && config.viewCache) {
    const { redis } = deps;
    const { channel } = config.viewCache;
    app.addHook('onReady', async () => {
      invalidation = await listenForViewChanges(redis, channel, viewCache, deps.logger);
    });
    app.addHook('onClose', async () => {
      await invalidation?.stop();
    });
  }

  /** An answer as the client gets it; `cache` says whether a view came from the edge's memory. */
  function sendAnswer(reply: FastifyReply, answer: Omit<CachedAnswer, 'body'> & { body: Buffer | Readable }, cache?: 'HIT' | 'MISS') {
    reply.code(answer.statusCode);
    for (const [name, value] of answer.headers) void reply.header(name, value);
    if (cache) void reply.header('x-cache', cache);
    return reply.send(answer.body);
  }

  async function forward(request: FastifyRequest, reply: FastifyReply) {
    const read = request.method === 'GET' || request.method === 'HEAD';
    const stream = read && STREAM_PATH.test(request.url);
    const target = !read ? bookingPool() : stream ? upstream.streams : upstream.query;
    const kind = read ? 'reads' : 'writes';
    const cachedSlotId = viewCache ? viewSlotId(request) : null;
    // Keyed by the credential as well as the URL (what a key may see depends on its role and
    // branch), hashed so that no API key is kept in the cache.
    const readerKey = cachedSlotId === null ? '' : createHash('sha256').update(`${request.headers.authorization ?? ''}\n${request.url}`).digest('base64');
    if (viewCache && cachedSlotId !== null) {
      const cached = viewCache.get(cachedSlotId, readerKey);
      if (cached) return sendAnswer(reply, cached, 'HIT');
    }
    if (!stream && maxInFlight[kind] > 0 && inFlight[kind] >= maxInFlight[kind]) {
      // Nothing was forwarded, so a retry (with the same Idempotency-Key) is always safe.
      throw new AppError('UNAVAILABLE', 'Too many requests in progress; retry shortly', { limit: kind }, 1);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    headers['x-forwarded-for'] = request.ip;
    let response;
    let body: Buffer | Readable;
    if (!stream) inFlight[kind] += 1;
    const ticket = viewCache && cachedSlotId !== null ? viewCache.ticket(cachedSlotId) : null;
    try {
      response = await target.request({
        method: request.method as 'GET',
        path: request.url,
        headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
      });
      // Ordinary answers are small (a view is a few KB): one buffer costs less than piping a stream.
      body = stream ? response.body : Buffer.from(await response.body.arrayBuffer());
    } catch (err) {
      request.log.warn({ err: (err as Error).message, url: request.url }, 'upstream unavailable');
      throw new AppError('UNAVAILABLE', 'Service temporarily unavailable', undefined, 1);
    } finally {
      if (!stream) inFlight[kind] -= 1;
    }
    const answerHeaders: CachedAnswer['headers'] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders.push([name, value]);
    }
    // Only found views are kept: errors (404, 401, 429) are cheap upstream and must stay exact.
    if (ticket && Buffer.isBuffer(body) && response.statusCode === 200) {
      viewCache?.put(ticket, readerKey, { statusCode: 200, headers: answerHeaders, body });
    }
    return sendAnswer(reply, { statusCode: response.statusCode, headers: answerHeaders, body }, ticket ? 'MISS' : undefined);
  }

  registerBrowserPolicy(app, config.corsOrigins);
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/api/*', handler: forward });
  // Public pages served by the query service: waiting-room displays and patients' token pages.
  app.route({ method: ['GET', 'HEAD'], url: '/display/*', handler: forward });
  app.route({ method: ['GET', 'HEAD'], url: '/t/*', handler: forward });

  // Open streams would keep the server from closing: cut them first.
  app.addHook('preClose', async () => {
    await upstream.streams.destroy();
  });
  app.addHook('onClose', async () => {
    await Promise.all([...upstream.booking, upstream.query, upstream.allocator].map((pool) => pool.close()));
  });
  return app;
}
