/**
 * The day simulation's HTTP client: the public contract and its extensions, through the edge.
 * Every call is counted; a write the allocator has not decided in time (202) is followed until
 * it is, so the simulation always continues from the system's own answer.
 */
import { describe, errorCode, eventually, request, type JsonResponse } from '../http';
import type { Doctor, Patient, Slot, SlotView, Source, Token } from '../seed-day';

/** The contract's token plus the `label` extension (SMI-007). */
export type DayToken = Token & { label?: string; recallCount?: number };
export type DaySlot = Slot & { delayMinutes?: number };
export interface DaySlotView extends SlotView {
  slot: DaySlot;
  nowServing: DayToken[];
  queue: DayToken[];
  waitlist: DayToken[];
}

export class DayError extends Error {}

const PENDING_TIMEOUT_MS = 15_000;

export interface BookAnswer {
  status: number;
  token?: DayToken;
  code?: string;
  /** SLOT_FULL: the doctor's later open slots with room, as the allocator listed them. */
  alternatives: Array<{ slotId: string; available: number }>;
  raw: JsonResponse;
}

export interface TokenAnswer {
  status: number;
  token?: DayToken;
  promoted?: DayToken | null;
  code?: string;
  raw: JsonResponse;
}

export class DayApi {
  /** HTTP requests made, polls included. */
  requests = 0;

  constructor(readonly base: string) {}

  private async call<T = any>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>> {
    this.requests += 1;
    const response = await request<T>(this.base, method, path, body);
    if (response.status >= 500) throw new DayError(`${method} ${path}: ${describe(response)}`);
    return response;
  }

  async createDoctor(body: { id: string; branchId: string; name: string; department: string }): Promise<Doctor> {
    const response = await this.call('POST', '/api/doctors', body);
    if (response.status !== 201 && response.status !== 200) throw new DayError(`creating ${body.name}: ${describe(response)}`);
    return response.body.doctor as Doctor;
  }

  async createSlot(body: { doctorId: string; start: string; end: string; capacity: number }): Promise<DaySlot> {
    const response = await this.call('POST', '/api/slots', body);
    if (response.status === 201) return response.body.slot as DaySlot;
    if (response.status === 202 && response.body?.slot?.id) {
      const id: string = response.body.slot.id;
      const found = await eventually(() => this.call('GET', `/api/slots/${id}`), (r) => r.status === 200, PENDING_TIMEOUT_MS, 100);
      if (found.status === 200) return found.body.slot as DaySlot;
    }
    throw new DayError(`creating a slot for ${body.doctorId}: ${describe(response)}`);
  }

  async book(body: { slotId: string; source: Source; patient: Patient }): Promise<BookAnswer> {
    const response = await this.call('POST', '/api/tokens/book', body);
    if (response.status === 201) return { status: 201, token: response.body.token, alternatives: [], raw: response };
    if (response.status === 202 && response.body?.token?.id) {
      const settled = await this.followToken(response.body.token.id, (t) => t.status !== 'PENDING');
      if (settled) return { status: 201, token: settled, alternatives: [], raw: response };
      throw new DayError(`booking ${response.body.token.id} was never decided`);
    }
    const details = response.body?.error?.details as { alternatives?: Array<{ slotId: string; available: number }> } | undefined;
    return { status: response.status, code: errorCode(response.body), alternatives: details?.alternatives ?? [], raw: response };
  }

  /** PATCH /api/tokens/{id}/{action}: check-in, complete, no-show, recall, cancel. */
  async transition(tokenId: string, action: 'check-in' | 'complete' | 'no-show' | 'recall' | 'cancel', expected: string, body?: unknown): Promise<TokenAnswer> {
    const response = await this.call('PATCH', `/api/tokens/${tokenId}/${action}`, body ?? {});
    if (response.status === 200) return { status: 200, token: response.body.token, promoted: response.body.promoted ?? null, raw: response };
    if (response.status === 202) {
      const settled = await this.followToken(tokenId, (t) => t.status === expected);
      if (settled) return { status: 200, token: settled, promoted: null, raw: response };
      throw new DayError(`${action} of ${tokenId} was never decided`);
    }
    return { status: response.status, code: errorCode(response.body), raw: response };
  }

  /** POST /api/slots/{id}/call-next; `known` are the slot's tokens already CALLED or done. */
  async callNext(slotId: string, known: ReadonlySet<string>): Promise<TokenAnswer> {
    const response = await this.call('POST', `/api/slots/${slotId}/call-next`, {});
    if (response.status === 200) return { status: 200, token: response.body.token, raw: response };
    if (response.status === 202) {
      const view = await eventually(
        () => this.view(slotId),
        (v) => v.status === 200 && v.body.nowServing.some((t) => !known.has(t.id)),
        PENDING_TIMEOUT_MS,
        100,
      );
      const token = view.status === 200 ? view.body.nowServing.find((t) => !known.has(t.id)) : undefined;
      if (token) return { status: 200, token, raw: response };
      throw new DayError(`call-next in ${slotId} was never decided`);
    }
    return { status: response.status, code: errorCode(response.body), raw: response };
  }

  /** PATCH /api/slots/{id}/capacity or /delay (extensions). */
  async slotAdmin(slotId: string, what: 'capacity' | 'delay', body: { capacity: number } | { minutes: number }): Promise<{ status: number; slot?: DaySlot; promoted: DayToken[]; code?: string }> {
    const response = await this.call('PATCH', `/api/slots/${slotId}/${what}`, body);
    if (response.status === 200) return { status: 200, slot: response.body.slot, promoted: response.body.promoted ?? [] };
    // 202: queued, the view shows the change once applied (the simulation waits for it there).
    if (response.status === 202) return { status: 202, promoted: [] };
    return { status: response.status, code: errorCode(response.body), promoted: [] };
  }

  view(slotId: string): Promise<JsonResponse<DaySlotView>> {
    return this.call<DaySlotView>('GET', `/api/tokens/view/${slotId}`);
  }

  private async followToken(id: string, done: (t: DayToken) => boolean): Promise<DayToken | null> {
    const settled = await eventually(
      () => this.call('GET', `/api/tokens/${id}`),
      (r) => r.status === 200 && done(r.body.token),
      PENDING_TIMEOUT_MS,
      100,
    );
    return settled.status === 200 && done(settled.body.token) ? (settled.body.token as DayToken) : null;
  }
}
