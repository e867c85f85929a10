/**
 * The public pages: `GET /display/{branchId}?doctorId=&lang=` (waiting-room board) and
 * `GET /t/{tokenId}` (a patient's token). Both are one self-contained HTML document. Errors are
 * HTML for browsers and the contract's JSON error body for everything else.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, IdSchema, TokenIdParamsSchema, parseRequest } from '@opd/shared';
import type { LiveReads } from './live-reads';
import { displayPage } from './pages/display-page';
import { messagePage, newNonce, pageHeaders } from './pages/html';
import { tokenPage } from './pages/token-page';
import { redactToken } from './public-view';

const DisplayParamsSchema = z.strictObject({ branchId: IdSchema });
const DisplayQuerySchema = z.strictObject({
  doctorId: IdSchema.optional(),
  /** BCP 47 language of the spoken announcements, e.g. en-US, hi-IN, ta-IN. */
  lang: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a language tag such as en-US')
    .optional(),
});

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

async function htmlErrors(request: FastifyRequest, reply: FastifyReply, render: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await render();
  } catch (err) {
    if (!(err instanceof AppError) || !wantsHtml(request)) throw err;
    const title = err.code === 'NOT_FOUND' ? 'Not found' : err.httpStatus >= 500 ? 'Please try again shortly' : 'This link is not valid';
    return reply.code(err.httpStatus).headers(pageHeaders(newNonce())).send(messagePage(title, err.message));
  }
}

export function registerPageRoutes(app: FastifyInstance, deps: { reads: LiveReads }): void {
  const { reads } = deps;

  app.get('/display/:branchId', (request, reply) =>
    htmlErrors(request, reply, async () => {
      const { branchId } = parseRequest(DisplayParamsSchema, request.params, 'params');
      const query = parseRequest(DisplayQuerySchema, request.query, 'query');
      const nonce = newNonce();
      // An unknown branch still gets the board: it shows "no clinics" and picks them up later.
      const html = displayPage({ branchId, doctorId: query.doctorId ?? null, lang: query.lang ?? 'en-US' }, nonce);
      return reply.headers(pageHeaders(nonce)).send(html);
    }),
  );

  app.get('/t/:id', (request, reply) =>
    htmlErrors(request, reply, async () => {
      const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
      const tokenBody = await reads.tokenBody(id);
      if (tokenBody === null) throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
      const token = redactToken((JSON.parse(tokenBody) as { token: Record<string, unknown> }).token);
      const slotBody = await reads.slotBody(String(token.slotId));
      if (slotBody === null) throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
      const slot = (JSON.parse(slotBody) as { slot: Record<string, unknown> }).slot;
      const doctor = await reads.doctor(String(slot.doctorId));
      const nonce = newNonce();
      return reply.headers(pageHeaders(nonce)).send(tokenPage({ token, slot, doctor }, nonce));
    }),
  );
}
