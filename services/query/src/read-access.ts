/**
 * Reads under a key: a key of branch A finds nothing of branch B (404), display keys see masked
 * names, and public screens (`?public=1`, the /display and /t pages) need no key because they
 * never carry patient details.
 */
import type { FastifyRequest } from 'fastify';
import { AppError, canSeeBranch, maskName, seesPatientNames, type Identity } from '@opd/shared';
import type { LiveReads } from './live-reads';
import { publicViewBody, redactToken } from './public-view';

export function isPublicRead(request: FastifyRequest, path: string): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (path.startsWith('/display/') || path.startsWith('/t/')) return true;
  const flag = (request.query as Record<string, unknown> | undefined)?.public;
  return flag === '1' || flag === 'true';
}

/** True when the request is anonymous and must only get redacted data. */
export function isAnonymous(request: FastifyRequest): boolean {
  return request.identity === undefined;
}

export interface ReadAccess {
  /** 404 unless the key may see the slot's branch; anonymous (public) reads pass. */
  checkSlot(request: FastifyRequest, slotId: string): Promise<void>;
  checkBranch(request: FastifyRequest, branchId: string): void;
  /** The body as this reader may see it: masked names for displays, none for anonymous readers. */
  viewBodyFor(request: FastifyRequest, body: string): string;
  tokenBodyFor(request: FastifyRequest, body: string): string;
}

type TokenLike = { patient?: { name?: string; phone?: string; mrn?: string } };

function maskToken<T extends TokenLike>(token: T): T {
  if (!token?.patient?.name) return token;
  return { ...token, patient: { name: maskName(token.patient.name) } };
}

export function createReadAccess(reads: LiveReads): ReadAccess {
  // A slot's branch never changes.
  const branches = new Map<string, string>();
  async function branchOf(slotId: string): Promise<string | null> {
    const cached = branches.get(slotId);
    if (cached) return cached;
    const body = await reads.slotBody(slotId);
    if (body === null) return null;
    const branchId = (JSON.parse(body) as { slot: { branchId: string } }).slot.branchId;
    if (branches.size > 50_000) branches.clear();
    branches.set(slotId, branchId);
    return branchId;
  }

  const identity = (request: FastifyRequest): Identity | undefined => request.identity;

  return {
    async checkSlot(request, slotId) {
      const who = identity(request);
      if (!who || who.branchId === null) return;
      const branchId = await branchOf(slotId);
      if (branchId !== null && !canSeeBranch(who, branchId)) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    },
    checkBranch(request, branchId) {
      const who = identity(request);
      if (who && !canSeeBranch(who, branchId)) throw new AppError('NOT_FOUND', `Branch ${branchId} not found`, { branchId });
    },
    viewBodyFor(request, body) {
      const who = identity(request);
      if (!who) return publicViewBody(body);
      if (seesPatientNames(who.role)) return body;
      const view = JSON.parse(body) as Record<string, unknown>;
      for (const list of ['nowServing', 'queue', 'waitlist']) {
        const tokens = view[list];
        if (Array.isArray(tokens)) view[list] = tokens.map((t) => maskToken(t as TokenLike));
      }
      return JSON.stringify(view);
    },
    tokenBodyFor(request, body) {
      const who = identity(request);
      if (who && seesPatientNames(who.role)) return body;
      const { token } = JSON.parse(body) as { token: TokenLike };
      return JSON.stringify({ token: who ? maskToken(token) : redactToken(token) });
    },
  };
}
