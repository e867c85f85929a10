/** The transfer saga's messages as applyBatch produces them: no broker, no database. */
import { createSlotState, transferredTokenId, type Command, type SlotState } from '@opd/shared';
import { applyBatch, type BatchLookups } from './apply-batch';

const now = '2025-03-03T09:30:00.000Z';
const lookups: BatchLookups = { doctors: async () => new Map(), laterSlots: async () => [] };
const slot = (id: string, capacity: number): SlotState =>
  createSlotState({ id, doctorId: `doc-${id}`, branchId: 'b', start: '2025-03-03T09:00:00.000Z', end: '2025-03-03T12:00:00.000Z', capacity });
const envelope = (slotId: string, extra: Partial<Command> = {}) => ({
  schemaVersion: 1 as const,
  commandId: 'cmd-1',
  slotId,
  replyTo: 'gw-1',
  issuedAt: now,
  ...extra,
});

async function seed(): Promise<Map<string, SlotState>> {
  const slots = new Map([
    ['src', slot('src', 1)],
    ['dst', slot('dst', 1)],
  ]);
  const booked = await applyBatch(
    slots,
    [{ ...envelope('src'), commandId: 'b1', type: 'token.book', tokenId: 'old', source: 'FOLLOW_UP', patient: { name: 'P', mrn: 'm1' }, onFull: 'reject' }],
    now,
    lookups,
  );
  for (const [id, state] of booked.changedSlots) slots.set(id, state);
  return slots;
}

const transferIn = (): Command => ({
  ...envelope('dst'),
  type: 'token.transfer-in',
  tokenId: transferredTokenId('old', 'dst'),
  source: 'FOLLOW_UP',
  patient: { name: 'P', mrn: 'm1' },
  arrivalAt: '2025-03-03T08:00:00.000Z',
  present: false,
  onFull: 'reject',
  fromTokenId: 'old',
  fromSlotId: 'src',
});

describe('applyBatch: transfer', () => {
  it('target books and forwards transfer-out to the source with the same commandId and replyTo; no reply yet', async () => {
    const slots = await seed();
    const res = await applyBatch(slots, [transferIn()], now, lookups);
    expect(res.replies).toEqual([]);
    const newId = transferredTokenId('old', 'dst');
    expect(res.changedTokens.get(newId)).toMatchObject({ slotId: 'dst', movedFrom: 'old', arrivalAt: '2025-03-03T08:00:00.000Z', weight: 3 });
    expect(res.forwards).toEqual([
      expect.objectContaining({
        commandId: 'cmd-1',
        slotId: 'src',
        replyTo: 'gw-1',
        type: 'token.transfer-out',
        tokenId: 'old',
        movedTo: newId,
        toSlotId: 'dst',
        newToken: expect.objectContaining({ id: newId, status: 'BOOKED', movedFrom: 'old' }),
      }),
    ]);

    const out = await applyBatch(slots, [{ ...res.forwards[0], hop: 1, forwarded: true }], now, lookups);
    expect(out.changedTokens.get('old')).toMatchObject({ status: 'MOVED', movedTo: newId });
    expect(out.forwards).toEqual([]);
    expect(out.replies).toEqual([
      { replyTo: 'gw-1', reply: { schemaVersion: 1, commandId: 'cmd-1', status: 200, body: { token: expect.objectContaining({ id: newId }), from: 'old', promoted: null } } },
    ]);
  });

  it('a refusing target replies the error itself and tells the source nothing', async () => {
    const slots = await seed();
    slots.set('dst', { ...slots.get('dst')!, slot: { ...slots.get('dst')!.slot, status: 'CLOSED' } });
    const res = await applyBatch(slots, [transferIn()], now, lookups);
    expect(res.forwards).toEqual([]);
    expect(res.changedSlots.size).toBe(0);
    expect(res.replies).toEqual([{ replyTo: 'gw-1', reply: expect.objectContaining({ commandId: 'cmd-1', status: 409, body: { error: expect.objectContaining({ code: 'SLOT_CLOSED' }) } }) }]);
  });

  it('a source whose token no longer waits replies 409 and forwards the abort to the target', async () => {
    const slots = await seed();
    const booked = await applyBatch(slots, [transferIn()], now, lookups);
    for (const [id, state] of booked.changedSlots) slots.set(id, state);
    const cancelled = await applyBatch(slots, [{ ...envelope('src'), commandId: 'c1', type: 'token.cancel', tokenId: 'old' }], now, lookups);
    for (const [id, state] of cancelled.changedSlots) slots.set(id, state);

    const out = await applyBatch(slots, [{ ...booked.forwards[0], hop: 1, forwarded: true }], now, lookups);
    expect(out.replies).toEqual([
      { replyTo: 'gw-1', reply: expect.objectContaining({ status: 409, body: { error: expect.objectContaining({ code: 'INVALID_TRANSITION' }) } }) },
    ]);
    const newId = transferredTokenId('old', 'dst');
    expect(out.forwards).toEqual([
      expect.objectContaining({ commandId: 'cmd-1.abort', slotId: 'dst', type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: 'old', hop: 1 }),
    ]);
    expect(out.forwards[0].replyTo).toBeUndefined();

    const abort = await applyBatch(slots, [{ ...out.forwards[0], hop: 2, forwarded: true }], now, lookups);
    expect(abort.changedTokens.get(newId)).toMatchObject({ status: 'CANCELLED' });
    expect(abort.replies).toEqual([]);
  });
});
