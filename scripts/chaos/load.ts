/**
 * The load of a chaos run: concurrent bookings (every source, every onFull policy, some with an
 * Idempotency-Key that is retried after a failure or a 202), cancellations and reads, all through
 * the edge. Every answer is recorded; the checks compare them with PostgreSQL afterwards.
 */
import { send, sleep, type Answer } from './http';

export const SOURCES = ['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'] as const;
export type ChaosSource = (typeof SOURCES)[number];
export type ChaosOnFull = 'reject' | 'waitlist' | 'next-slot';

export interface SeedSlot {
  slotId: string;
  doctorId: string;
  capacity: number;
}

export interface ChaosPatient {
  name: string;
  phone: string;
  mrn?: string;
}

export interface BookRecord {
  seq: number;
  slotId: string;
  source: ChaosSource;
  /** What the request asked for; undefined means the default (reject). */
  onFull?: ChaosOnFull;
  patient: ChaosPatient;
  idempotencyKey?: string;
  /** Every answer, in order: retries with the same key add answers. */
  attempts: Answer[];
}

export interface CancelRecord {
  seq: number;
  tokenId: string;
  /** The token was already cancelled by an earlier 200: the contract says 200, same state. */
  repeat: boolean;
  attempts: Answer[];
}

export interface ReadRecord {
  tokenId: string;
  answer: Answer;
}

const last = <T>(list: T[]): T => list[list.length - 1];
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
function weighted<T>(choices: [T, number][]): T {
  let roll = Math.random() * choices.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of choices) {
    roll -= w;
    if (roll < 0) return value;
  }
  return choices[choices.length - 1][0];
}

export const isFinalBookSuccess = (a: Answer) => a.status === 200 || a.status === 201;
export const isAmbiguous = (a: Answer) => a.status === 0 || a.status >= 500;

export class LoadDriver {
  readonly books: BookRecord[] = [];
  readonly cancels: CancelRecord[] = [];
  readonly reads: ReadRecord[] = [];
  /** Tokens confirmed by a 200/201 and not cancelled yet. */
  private readonly cancellable: string[] = [];
  private readonly cancelled: string[] = [];
  private readonly confirmed: string[] = [];
  private seq = 0;
  private done: () => boolean = () => false;

  constructor(
    private readonly edge: string,
    private readonly tag: string,
    private readonly slots: readonly SeedSlot[],
  ) {}

  /** Runs `workers` loops until `done()` says stop; each loop finishes its request first. */
  async run(workers: number, done: () => boolean): Promise<void> {
    this.done = done;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (!done()) {
          const roll = Math.random();
          if (roll < 0.08 && this.confirmed.length) await this.read();
          else if (roll < 0.3 && this.cancellable.length) await this.cancel();
          else await this.book();
        }
      }),
    );
  }

  private async book(): Promise<void> {
    const seq = (this.seq += 1);
    const source = weighted<ChaosSource>([
      ['EMERGENCY', 5],
      ['PAID_PRIORITY', 15],
      ['FOLLOW_UP', 20],
      ['ONLINE', 35],
      ['WALK_IN', 25],
    ]);
    const onFull =
      source === 'EMERGENCY'
        ? undefined
        : weighted<ChaosOnFull | undefined>([
            [undefined, 20],
            ['reject', 25],
            ['waitlist', 35],
            ['next-slot', 20],
          ]);
    const patient: ChaosPatient = {
      name: `Chaos ${this.tag} patient ${seq}`,
      phone: `+91 ${9_000_000_000 + seq}`,
      ...(Math.random() < 0.5 ? { mrn: `${this.tag}-mrn-${seq}` } : {}),
    };
    const record: BookRecord = {
      seq,
      slotId: pick(this.slots).slotId,
      source,
      ...(onFull ? { onFull } : {}),
      patient,
      ...(Math.random() < 0.35 ? { idempotencyKey: `${this.tag}-book-${seq}` } : {}),
      attempts: [],
    };
    this.books.push(record);
    const body = { slotId: record.slotId, source, patient, ...(onFull ? { onFull } : {}) };
    const headers: Record<string, string> = record.idempotencyKey ? { 'idempotency-key': record.idempotencyKey } : {};
    const post = async () => {
      const answer = await send(this.edge, 'POST', '/api/tokens/book', body, headers);
      record.attempts.push(answer);
      return answer;
    };

    let answer = await post();
    if (record.idempotencyKey) {
      // With a key the client may safely retry whatever went wrong, and see the same token.
      // (Not after the load: a 202 left is followed up by the checks.)
      for (let retry = 0; retry < 4 && (answer.status === 202 || isAmbiguous(answer)) && !this.done(); retry += 1) {
        await sleep(400 + Math.random() * 600);
        answer = await post();
      }
      if (answer.status === 201 && Math.random() < 0.2) answer = await post();
    }
    if (isFinalBookSuccess(answer) && answer.body?.token?.id) {
      const id = String(answer.body.token.id);
      if (!this.confirmed.includes(id)) {
        this.confirmed.push(id);
        this.cancellable.push(id);
      }
    }
  }

  private async cancel(): Promise<void> {
    const repeat = this.cancelled.length > 0 && Math.random() < 0.05;
    let tokenId: string;
    if (repeat) {
      tokenId = pick(this.cancelled);
    } else {
      const index = Math.floor(Math.random() * this.cancellable.length);
      tokenId = this.cancellable.splice(index, 1)[0];
    }
    const record: CancelRecord = { seq: (this.seq += 1), tokenId, repeat, attempts: [] };
    this.cancels.push(record);
    let answer = await send(this.edge, 'PATCH', `/api/tokens/${tokenId}/cancel`, { reason: 'chaos' });
    record.attempts.push(answer);
    // Cancelling is idempotent: retrying after no answer or a 5xx is safe.
    for (let retry = 0; retry < 3 && isAmbiguous(answer) && !this.done(); retry += 1) {
      await sleep(400 + Math.random() * 600);
      answer = await send(this.edge, 'PATCH', `/api/tokens/${tokenId}/cancel`, { reason: 'chaos' });
      record.attempts.push(answer);
    }
    if (last(record.attempts).status === 200 && !repeat) this.cancelled.push(tokenId);
  }

  private async read(): Promise<void> {
    const tokenId = pick(this.confirmed);
    this.reads.push({ tokenId, answer: await send(this.edge, 'GET', `/api/tokens/${tokenId}`) });
  }
}

export const finalAnswer = (attempts: Answer[]): Answer => last(attempts);
