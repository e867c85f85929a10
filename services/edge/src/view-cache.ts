/**
 * Slot views the edge answered recently, per reader. Waiting-room screens poll the same few views
 * all day; a hit is answered here instead of through the query service and Redis. An entry lives
 * until its slot changes (the read model's change channel, see view-invalidation.ts) or `maxAgeMs`
 * passes, whichever comes first, and nothing is served or kept while the edge does not hear the
 * channel. No I/O here: the clock is passed in.
 */
export interface CachedAnswer {
  statusCode: number;
  headers: [string, string | string[]][];
  body: Buffer;
}

/** Taken before asking upstream: an answer is kept only if its slot did not change since. */
export interface FillTicket {
  slotId: string;
  era: number;
  generation: number;
}

export interface ViewCache {
  get(slotId: string, readerKey: string): CachedAnswer | undefined;
  ticket(slotId: string): FillTicket;
  put(ticket: FillTicket, readerKey: string, answer: CachedAnswer): void;
  /** The slot has a new view: its entries go, and fills already under way are not kept. */
  invalidate(slotId: string): void;
  /** false while change messages may be missed (not subscribed): everything goes and nothing is kept. */
  setListening(listening: boolean): void;
  stats(): { entries: number; bytes: number; hits: number; misses: number };
}

export interface ViewCacheOptions {
  maxAgeMs: number;
  /** Bodies and keys held at most; the oldest entries go first. */
  maxBytes: number;
  /** Slots whose change count is remembered before everything is reset (a day has a few thousand). */
  maxTrackedSlots?: number;
  now?: () => number;
}

interface Entry {
  slotId: string;
  answer: CachedAnswer;
  expires: number;
  bytes: number;
}

export function createViewCache(options: ViewCacheOptions): ViewCache {
  const now = options.now ?? Date.now;
  const maxTrackedSlots = options.maxTrackedSlots ?? 100_000;
  const entries = new Map<string, Entry>();
  const keysBySlot = new Map<string, Set<string>>();
  const generations = new Map<string, number>();
  let era = 0;
  let bytes = 0;
  let listening = false;
  let hits = 0;
  let misses = 0;

  const entryKey = (slotId: string, readerKey: string) => `${slotId}\n${readerKey}`;

  function remove(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
    const keys = keysBySlot.get(entry.slotId);
    keys?.delete(key);
    if (keys?.size === 0) keysBySlot.delete(entry.slotId);
  }

  function reset(): void {
    entries.clear();
    keysBySlot.clear();
    generations.clear();
    bytes = 0;
    era += 1;
  }

  return {
    get(slotId, readerKey) {
      const key = entryKey(slotId, readerKey);
      const entry = listening ? entries.get(key) : undefined;
      if (entry && entry.expires > now()) {
        hits += 1;
        return entry.answer;
      }
      if (entry) remove(key);
      misses += 1;
      return undefined;
    },
    ticket(slotId) {
      return { slotId, era, generation: generations.get(slotId) ?? 0 };
    },
    put(ticket, readerKey, answer) {
      const { slotId } = ticket;
      if (!listening || ticket.era !== era || (generations.get(slotId) ?? 0) !== ticket.generation) return;
      const key = entryKey(slotId, readerKey);
      const size = answer.body.length + key.length;
      if (size > options.maxBytes) return;
      remove(key);
      entries.set(key, { slotId, answer, expires: now() + options.maxAgeMs, bytes: size });
      bytes += size;
      let keys = keysBySlot.get(slotId);
      if (!keys) keysBySlot.set(slotId, (keys = new Set()));
      keys.add(key);
      while (bytes > options.maxBytes) remove(entries.keys().next().value as string);
    },
    invalidate(slotId) {
      if (generations.size >= maxTrackedSlots && !generations.has(slotId)) {
        reset();
        return;
      }
      generations.set(slotId, (generations.get(slotId) ?? 0) + 1);
      for (const key of [...(keysBySlot.get(slotId) ?? [])]) remove(key);
    },
    setListening(value) {
      reset();
      listening = value;
    },
    stats: () => ({ entries: entries.size, bytes, hits, misses }),
  };
}
