import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  AppError,
  BookRequestSchema,
  CancelRequestSchema,
  EmptyRequestSchema,
  IdempotencyKeySchema,
  SlotIdParamsSchema,
  TokenIdParamsSchema,
  TransferRequestSchema,
  canSeeBranch,
  checkTransfer,
  parseRequest,
  type Patient,
  type Source,
  type TokenStatus,
  type Action,
  type Command,
} from '@opd/shared';
import { dispatchAndAnswer, envelope, type GatewayContext } from '../gateway-context';
import { requestHash } from '../idempotency-store';

type TokenCommandType = 'token.check-in' | 'token.complete' | 'token.no-show' | 'token.recall';

export function registerTokenRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.post('/api/tokens/book', async (request, reply) => {
    const body = parseRequest(BookRequestSchema, request.body, 'body');
    await ctx.access.slot(request, body.slotId, { kind: 'book', source: body.source });
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
    request.auditTarget = { ...request.auditTarget, tokenId };
    if (request.identity.role === 'portal') await ctx.access.recordOwner(tokenId, request.identity.keyId);
    const command: Command = {
      ...envelope(ctx, body.slotId),
      type: 'token.book',
      tokenId,
      source: body.source,
      patient: body.patient,
      onFull: body.onFull ?? 'reject',
    };
    const decision = await ctx.bus.dispatch(command);
    if (!decision) {
      return reply.code(202).header('Location', `/api/tokens/${tokenId}`).send({ token: { id: tokenId, status: 'PENDING' } });
    }
    // A repeated key answers 200 with the token the first request created.
    const status = repeatedKey && decision.status === 201 ? 200 : decision.status;
    return reply.code(status).send(decision.body);
  });

  app.patch('/api/tokens/:id/cancel', async (request, reply) => {
    const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
    const body = parseRequest(CancelRequestSchema, request.body ?? {}, 'body');
    const token = await ctx.access.token(request, id, (ownToken) => ({ kind: 'cancel', ownToken }));
    const command: Command = { ...envelope(ctx, token.slot.slotId), type: 'token.cancel', tokenId: id, reason: body.reason };
    return dispatchAndAnswer(ctx, reply, command, `/api/tokens/${id}`);
  });

  const simpleTransitions: [string, TokenCommandType, Action][] = [
    ['check-in', 'token.check-in', { kind: 'check-in' }],
    ['complete', 'token.complete', { kind: 'complete' }],
    ['no-show', 'token.no-show', { kind: 'no-show' }],
    // Extension: call a CALLED patient again (recallCount + 1; displays re-announce).
    ['recall', 'token.recall', { kind: 'recall' }],
  ];
  for (const [path, type, action] of simpleTransitions) {
    app.patch(`/api/tokens/:id/${path}`, async (request, reply) => {
      const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
      parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
      const token = await ctx.access.token(request, id, () => action);
      return dispatchAndAnswer(ctx, reply, { ...envelope(ctx, token.slot.slotId), type, tokenId: id }, `/api/tokens/${id}`);
    });
  }

  /**
   * Extension: transfer a live token to another slot of its branch (a saga, target first; see
   * docs/api-extensions.md). The gateway reads the old token from PostgreSQL, answers what it can
   * (404, 400 same slot, 409 not live), and sends `token.transfer-in` to the TARGET slot's
   * partition; the answer comes from the target (refused) or from the source (moved, or 409).
   */
  app.patch('/api/tokens/:id/transfer', async (request, reply) => {
    const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
    const body = parseRequest(TransferRequestSchema, request.body ?? {}, 'body');
    const ref = await ctx.access.token(request, id, () => ({ kind: 'transfer' }));
    const { rows } = await ctx.pool.query<{
      status: TokenStatus;
      source: Source;
      patient: Patient;
      arrival_at: Date;
      moved_to: string | null;
    }>('SELECT status, source, patient, arrival_at, moved_to FROM tokens WHERE id = $1', [id]);
    const old = rows[0];
    if (!old) throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
    const check = checkTransfer({ id, slotId: ref.slot.slotId, status: old.status, movedTo: old.moved_to }, body.slotId);
    if (!check.ok && check.code === 'VALIDATION_ERROR') throw new AppError(check.code, check.message, check.details);

    // The target must exist and be visible to the key (else 404, as if it did not exist), in the token's branch.
    const target = await ctx.pool.query<{ branch_id: string }>('SELECT branch_id FROM slots WHERE id = $1', [body.slotId]);
    const targetBranch = target.rows[0]?.branch_id;
    if (targetBranch === undefined || !canSeeBranch(request.identity, targetBranch)) {
      throw new AppError('NOT_FOUND', `Slot ${body.slotId} not found`, { slotId: body.slotId });
    }
    if (targetBranch !== ref.slot.branchId) {
      throw new AppError('VALIDATION_ERROR', 'Invalid request: slotId', {
        fields: [{ field: 'slotId', message: "must be a slot of the token's branch" }],
      });
    }
    if (!check.ok) throw new AppError(check.code, check.message, check.details);

    const newTokenId = check.newTokenId;
    const command: Command = {
      ...envelope(ctx, body.slotId),
      type: 'token.transfer-in',
      tokenId: newTokenId,
      source: old.source,
      patient: old.patient,
      arrivalAt: old.arrival_at.toISOString(),
      present: old.status === 'CHECKED_IN',
      onFull: body.onFull ?? 'reject',
      fromTokenId: id,
      fromSlotId: ref.slot.slotId,
    };
    const decision = await ctx.bus.dispatch(command);
    if (!decision) {
      return reply
        .code(202)
        .header('Location', `/api/tokens/${newTokenId}`)
        .send({ token: { id: newTokenId, status: 'PENDING' }, from: id });
    }
    return reply.code(decision.status).send(decision.body);
  });

  app.post('/api/slots/:slotId/call-next', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
    await ctx.access.slot(request, slotId, { kind: 'call-next' });
    return dispatchAndAnswer(ctx, reply, { ...envelope(ctx, slotId), type: 'slot.call-next' }, `/api/tokens/view/${slotId}`);
  });
}
