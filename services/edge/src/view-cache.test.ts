import fc from 'fast-check';
import { createViewCache, type CachedAnswer } from './view-cache';

const answer = (text: string): CachedAnswer => ({ statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from(text) });

function setup(options: { maxAgeMs?: number; maxBytes?: number; maxTrackedSlots?: number } = {}) {
  let clock = 1_000;
  const cache = createViewCache({ maxAgeMs: options.maxAgeMs ?? 2000, maxBytes: options.maxBytes ?? 1024 * 1024, maxTrackedSlots: options.maxTrackedSlots, now: () => clock });
  cache.setListening(true);
  const fill = (slotId: string, reader: string, text: string) => cache.put(cache.ticket(slotId), reader, answer(text));
  const read = (slotId: string, reader: string) => cache.get(slotId, reader)?.body.toString();
  return { cache, fill, read, advance: (ms: number) => (clock += ms) };
}

describe('edge view cache', () => {
  it('answers a filled view until it is older than maxAgeMs', () => {
    const { cache, fill, read, advance } = setup({ maxAgeMs: 2000 });
    expect(read('s1', 'key-a')).toBeUndefined();
    fill('s1', 'key-a', 'v1');
    expect(read('s1', 'key-a')).toBe('v1');
    advance(1999);
    expect(read('s1', 'key-a')).toBe('v1');
    advance(1);
    expect(read('s1', 'key-a')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 0, hits: 2, misses: 2 });
  });

  it('keeps readers apart: a key only gets what was filled under it', () => {
    const { fill, read } = setup();
    fill('s1', 'admin', 'full names');
    fill('s1', 'display', 'masked names');
    expect(read('s1', 'admin')).toBe('full names');
    expect(read('s1', 'display')).toBe('masked names');
    expect(read('s1', 'anonymous')).toBeUndefined();
  });

  it('a change to a slot drops every reader of that slot, and only that slot', () => {
    const { cache, fill, read } = setup();
    fill('s1', 'admin', 'a');
    fill('s1', 'display', 'b');
    fill('s2', 'admin', 'c');
    cache.invalidate('s1');
    expect(read('s1', 'admin')).toBeUndefined();
    expect(read('s1', 'display')).toBeUndefined();
    expect(read('s2', 'admin')).toBe('c');
  });

  it('does not keep a view fetched before a change that arrived while it was on its way', () => {
    const { cache, read } = setup();
    const ticket = cache.ticket('s1');
    cache.invalidate('s1'); // the new view was published while the old one travelled back
    cache.put(ticket, 'admin', answer('old'));
    expect(read('s1', 'admin')).toBeUndefined();
    cache.put(cache.ticket('s1'), 'admin', answer('new'));
    expect(read('s1', 'admin')).toBe('new');
  });

  it('serves and keeps nothing while it does not hear the change channel', () => {
    const { cache, fill, read } = setup();
    fill('s1', 'admin', 'a');
    const ticket = cache.ticket('s2');
    cache.setListening(false);
    expect(read('s1', 'admin')).toBeUndefined();
    fill('s1', 'admin', 'b');
    expect(read('s1', 'admin')).toBeUndefined();
    // Back on the channel: empty, and a fill begun before the gap is not trusted.
    cache.setListening(true);
    cache.put(ticket, 'admin', answer('from before'));
    expect(read('s2', 'admin')).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  it('past maxTrackedSlots changed slots it starts over: empty, and fills begun before are not kept', () => {
    const { cache, fill, read } = setup({ maxTrackedSlots: 3 });
    fill('kept', 'k', 'v');
    const ticket = cache.ticket('s9');
    for (const slot of ['s1', 's2', 's3']) cache.invalidate(slot);
    expect(read('kept', 'k')).toBe('v');
    cache.invalidate('s4'); // a fourth slot: the change counts are forgotten, so is everything else
    expect(read('kept', 'k')).toBeUndefined();
    cache.put(ticket, 'k', answer('from before'));
    expect(read('s9', 'k')).toBeUndefined();
    fill('s9', 'k', 'after');
    expect(read('s9', 'k')).toBe('after');
  });

  it('holds at most maxBytes, dropping the oldest entries first', () => {
    const { cache, fill, read } = setup({ maxBytes: 100 });
    fill('s1', 'k', 'x'.repeat(40));
    fill('s2', 'k', 'y'.repeat(40));
    fill('s3', 'k', 'z'.repeat(40));
    expect(read('s1', 'k')).toBeUndefined();
    expect(read('s2', 'k')).toBe('y'.repeat(40));
    expect(read('s3', 'k')).toBe('z'.repeat(40));
    expect(cache.stats().bytes).toBeLessThanOrEqual(100);
    fill('s4', 'k', 'w'.repeat(200)); // larger than the whole cache: not kept, nothing evicted for it
    expect(read('s4', 'k')).toBeUndefined();
    expect(read('s3', 'k')).toBe('z'.repeat(40));
  });

  it('never answers a view older than the last change of its slot (any order of fills, changes and reads)', () => {
    type Step = { kind: 'start'; slot: number } | { kind: 'finish'; fill: number } | { kind: 'change'; slot: number } | { kind: 'read'; slot: number };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('start' as const), slot: fc.nat(2) }),
      fc.record({ kind: fc.constant('finish' as const), fill: fc.nat(9) }),
      fc.record({ kind: fc.constant('change' as const), slot: fc.nat(2) }),
      fc.record({ kind: fc.constant('read' as const), slot: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps: Step[]) => {
        const { cache } = setup({ maxAgeMs: 60_000 });
        // The read model: each slot's current version; a fill reads it when it starts.
        const versions = [0, 0, 0];
        const fills: { slot: number; version: number; ticket: ReturnType<typeof cache.ticket> }[] = [];
        for (const s of steps) {
          if (s.kind === 'start') fills.push({ slot: s.slot, version: versions[s.slot], ticket: cache.ticket(`s${s.slot}`) });
          if (s.kind === 'finish' && fills[s.fill]) {
            const f = fills[s.fill];
            cache.put(f.ticket, 'k', answer(String(f.version)));
          }
          if (s.kind === 'change') {
            versions[s.slot] += 1;
            cache.invalidate(`s${s.slot}`);
          }
          if (s.kind === 'read') {
            const hit = cache.get(`s${s.slot}`, 'k');
            if (hit) expect(Number(hit.body.toString())).toBe(versions[s.slot]);
          }
        }
      }),
    );
  });
});
