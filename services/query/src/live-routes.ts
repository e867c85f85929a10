/**
 * Live reads: Server-Sent Events per slot and per branch, the branch's slots of a day (what a
 * waiting-room board shows), and the two public pages (`/display/{branchId}`, `/t/{tokenId}`).
 *
 * Stream events: `event: view`, `id: <version>`, `data: <body of GET /api/tokens/view/{slotId}>`
 * (branch events: the same body with `slotId` first). A client gets the current view(s) on
 * connect, so a reconnect with `Last-Event-ID` simply catches up; `: keep-alive` comments keep
 * proxies from closing an idle stream.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError, IdSchema, SlotIdParamsSchema, parseRequest, seesPatientNames } from '@opd/shared';
import { createLiveHub, parseViewChange, type LiveHub, type StreamClient, type ViewChange } from './live-hub';
import type { LiveReads } from './live-reads';
import { registerPageRoutes } from './page-routes';
import { publicView } from './public-view';
import type { ReadAccess } from './read-access';
import type { ViewStore } from './view-store';

const PublicFlagSchema = z.enum(['1', 'true', '0', 'false']);
const isOn = (flag: string | undefined) => flag === '1' || flag === 'true';

export const BranchIdParamsSchema = z.strictObject({ branchId: IdSchema });
const SlotStreamQuerySchema = z.strictObject({ public: PublicFlagSchema.optional() });
const BranchStreamQuerySchema = z.strictObject({ public: PublicFlagSchema.optional(), doctorId: IdSchema.optional() });
const BranchSlotsQuerySchema = z.strictObject({
  date: z.iso.date().optional(),
  doctorId: IdSchema.optional(),
  public: PublicFlagSchema.optional(),
});

export interface LiveDeps {
  store: ViewStore;
  reads: LiveReads;
  access: ReadAccess;
  pool: Pool;
  redis: Redis;
  logger: Logger;
  timeZone: string;
  keepAliveMs?: number;
}

export function registerLiveRoutes(app: FastifyInstance, deps: LiveDeps): LiveHub {
  const { reads, access } = deps;
  // Displays and anonymous public screens get views without patient details.
  const publicOnly = (request: FastifyRequest, flag: string | undefined) =>
    isOn(flag) || !request.identity || !seesPatientNames(request.identity.role);
  const changesOf = async (slotIds: string[]): Promise<ViewChange[]> => {
    const bodies = await Promise.all(slotIds.map((id) => reads.viewBody(id)));
    return bodies.flatMap((body) => {
      const change = body === null ? null : parseViewChange(body);
      return change ? [change] : [];
    });
  };
  const branchChanges = async (branchId: string, doctorId?: string) =>
    changesOf((await reads.branchSlots(branchId, reads.today(), doctorId)).map((r) => r.slotId));

  const hub = createLiveHub({
    redis: deps.redis,
    channel: deps.store.changesChannel,
    logger: deps.logger,
    keepAliveMs: deps.keepAliveMs,
    async resync(slotIds, branchIds) {
      const changes = await changesOf(slotIds);
      for (const branchId of branchIds) changes.push(...(await branchChanges(branchId)));
      return changes;
    },
  });

  function openStream(request: FastifyRequest, reply: FastifyReply, client: Omit<StreamClient, 'res' | 'sent'>): StreamClient {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    request.raw.socket?.setNoDelay(true);
    // Browsers reconnect after 3 s; the first event comes right after this line.
    res.write('retry: 3000\n\n');
    return { ...client, res, sent: new Map() };
  }

  function failStream(request: FastifyRequest, client: StreamClient, err: unknown): void {
    request.log.warn({ err: (err as Error).message }, 'stream setup failed');
    client.res.end();
  }

  app.get('/api/slots/:slotId/stream', { exposeHeadRoute: false }, async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    const query = parseRequest(SlotStreamQuerySchema, request.query, 'query');
    await access.checkSlot(request, slotId);
    if ((await reads.viewBody(slotId)) === null) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    const client = openStream(request, reply, { kind: 'slot', publicOnly: publicOnly(request, query.public) });
    // Subscribe first, then read: a change published in between is either sent by the hub or
    // contained in what is read; the version check sends each version at most once.
    hub.addSlotClient(slotId, client);
    try {
      for (const change of await changesOf([slotId])) hub.deliver(client, change);
    } catch (err) {
      failStream(request, client, err);
    }
  });

  app.get('/api/branches/:branchId/stream', { exposeHeadRoute: false }, async (request, reply) => {
    const { branchId } = parseRequest(BranchIdParamsSchema, request.params, 'params');
    const query = parseRequest(BranchStreamQuerySchema, request.query, 'query');
    access.checkBranch(request, branchId);
    if (!(await reads.branchExists(branchId))) throw new AppError('NOT_FOUND', `Branch ${branchId} not found`, { branchId });
    const client = openStream(request, reply, { kind: 'branch', publicOnly: publicOnly(request, query.public), doctorId: query.doctorId });
    hub.addBranchClient(branchId, client);
    try {
      // On connect: the current view of every slot of the branch today.
      for (const change of await branchChanges(branchId, query.doctorId)) hub.deliver(client, change);
    } catch (err) {
      failStream(request, client, err);
    }
  });

  app.get('/api/branches/:branchId/slots', async (request, reply) => {
    const { branchId } = parseRequest(BranchIdParamsSchema, request.params, 'params');
    const query = parseRequest(BranchSlotsQuerySchema, request.query, 'query');
    access.checkBranch(request, branchId);
    if (!(await reads.branchExists(branchId))) throw new AppError('NOT_FOUND', `Branch ${branchId} not found`, { branchId });
    const date = query.date ?? reads.today();
    const slots = await branchSlotViews(reads, branchId, date, query.doctorId, publicOnly(request, query.public));
    return reply.send({ branchId, date, slots });
  });

  registerPageRoutes(app, { reads });

  // Streams hold their responses open; end them before the server waits for open requests.
  app.addHook('onReady', () => hub.start());
  app.addHook('preClose', async () => hub.endStreams());
  app.addHook('onClose', () => hub.stop());
  return hub;
}

export async function branchSlotViews(reads: LiveReads, branchId: string, date: string, doctorId: string | undefined, publicOnly: boolean) {
  const rows = await reads.branchSlots(branchId, date, doctorId);
  const ids = rows.map((r) => r.slotId);
  const bodies = await Promise.all(ids.map((id) => reads.viewBody(id)));
  const slots: { doctor: unknown; view: unknown; recentCalls: unknown[] }[] = [];
  rows.forEach((row, i) => {
    const body = bodies[i];
    if (body === null) return;
    const view = JSON.parse(body) as { recentCalls?: unknown[] };
    // Each view carries its slot's recent calls (labels and numbers only, no patients).
    slots.push({ doctor: row.doctor, view: publicOnly ? publicView(view) : view, recentCalls: view.recentCalls ?? [] });
  });
  return slots;
}
