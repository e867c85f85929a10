import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  AppError,
  BookRequestSchema,
  CancelRequestSchema,
  EmptyRequestSchema,
  IdempotencyKeySchema,
  SlotIdParamsSchema,
  TokenIdParamsSchema,
  findTokenSlotId,
  parseRequest,
  type Command,
  type Reply,
} from '@opd/shared';
import type { GatewayContext } from '../gateway-context';
import { requestHash } from '../idempotency-store';

type TokenCommandType = 'token.check-in' | 'token.complete' | 'token.no-show' | 'token.recall';

export function registerTokenRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const envelope = (slotId: string) => ({
    schemaVersion: 1 as const,
    commandId: randomUUID(),
    slotId,
    replyTo: ctx.instanceId,
    issuedAt: new Date().toISOString(),
  });

  app.post('/api/tokens/book', async (request, reply) => {
    const body = parseRequest(BookRequestSchema, request.body, 'body');
    const rawKey = request.headers['idempotency-key'];
    let tokenId: string = randomUUID();
    let repeatedKey = false;
    if (rawKey !== undefined) {
      const key = parseRequest(IdempotencyKeySchema, rawKey, 'headers');
      const hash = requestHash(body);
      const record = await ctx.idempotency.reserve(key, hash, tokenId, body.slotId);
      if (record.requestHash !== hash) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request', {
          tokenId: record.tokenId,
        });
      }
      tokenId = record.tokenId;
      repeatedKey = !record.created;
    }
    const command: Command = {
      ...envelope(body.slotId),
      type: 'token.book',
      tokenId,
      source: body.source,
      patient: body.patient,
      onFull: body.onFull ?? 'reject',
    };
    const decision = await ctx.bus.dispatch(command);
    if (!decision) return pending(reply, tokenId);
    // A repeated key answers 200 with the token the first request created.
    const status = repeatedKey && decision.status === 201 ? 200 : decision.status;
    return send(reply, { ...decision, status });
  });

  app.patch('/api/tokens/:id/cancel', async (request, reply) => {
    const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
    const body = parseRequest(CancelRequestSchema, request.body ?? {}, 'body');
    const slotId = await slotOfToken(id);
    return run(reply, { ...envelope(slotId), type: 'token.cancel', tokenId: id, reason: body.reason }, id);
  });

  const simpleTransitions: [string, TokenCommandType][] = [
    ['check-in', 'token.check-in'],
    ['complete', 'token.complete'],
    ['no-show', 'token.no-show'],
    // Extension: call a CALLED patient again (recallCount + 1; displays re-announce).
    ['recall', 'token.recall'],
  ];
  for (const [path, type] of simpleTransitions) {
    app.patch(`/api/tokens/:id/${path}`, async (request, reply) => {
      const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
      parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
      const slotId = await slotOfToken(id);
      return run(reply, { ...envelope(slotId), type, tokenId: id }, id);
    });
  }

  app.post('/api/slots/:slotId/call-next', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
    const decision = await ctx.bus.dispatch({ ...envelope(slotId), type: 'slot.call-next' });
    if (!decision) {
      return reply.code(202).header('Location', `/api/tokens/view/${slotId}`).send({ accepted: true });
    }
    return send(reply, decision);
  });

  async function slotOfToken(tokenId: string): Promise<string> {
    const slotId = await findTokenSlotId(ctx.pool, tokenId);
    if (!slotId) throw new AppError('NOT_FOUND', `Token ${tokenId} not found`, { tokenId });
    return slotId;
  }

  async function run(reply: FastifyReply, command: Command, tokenId: string) {
    const decision = await ctx.bus.dispatch(command);
    return decision ? send(reply, decision) : pending(reply, tokenId, true);
  }
}

function send(reply: FastifyReply, decision: Reply) {
  const body = decision.body as Record<string, unknown>;
  return reply.code(decision.status).send(body);
}

/** The allocator has not answered in time: the command stays queued and the client can follow it. */
function pending(reply: FastifyReply, tokenId: string, accepted = false) {
  return reply
    .code(202)
    .header('Location', `/api/tokens/${tokenId}`)
    .send(accepted ? { accepted: true, token: { id: tokenId } } : { token: { id: tokenId, status: 'PENDING' } });
}
