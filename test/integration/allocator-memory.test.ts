/**
 * The allocator keeps a bounded number of slots in memory per partition. Here one: every slot
 * that shares a partition with another is dropped and reloaded from PostgreSQL between its
 * bookings, and numbering and capacity carry on exactly as if it had stayed.
 */
import { call, createDoctorWithSlot, createSlot } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);

beforeAll(async () => {
  system = await startSystem({ label: 'allocmem', allocatorCachedSlots: 1 });
});
afterAll(async () => {
  await system?.close();
});

describe('allocator slot memory', () => {
  it('a slot dropped from memory is reloaded with its numbering and capacity', async () => {
    const { id: doctorId, slotId: first } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const slots = [first];
    for (let i = 1; i < 6; i += 1) slots.push(await createSlot(system.edgeUrl, doctorId, { capacity: 2, startOffsetMinutes: 60 * i }));

    // Six slots on four partitions: at least two share one, so they evict each other in turn.
    const book = (slotId: string, name: string) => api('POST', '/api/tokens/book', { slotId, source: 'WALK_IN', patient: { name } });
    for (const round of [1, 2]) {
      for (const slotId of slots) {
        const answer = await book(slotId, `Patient ${round} ${slotId.slice(0, 6)}`);
        expect(answer.status).toBe(201);
        expect(answer.body.token.number).toBe(round);
      }
    }
    for (const slotId of slots) {
      const full = await book(slotId, `Patient 3 ${slotId.slice(0, 6)}`);
      expect(full.status).toBe(409);
      expect(full.body.error.code).toBe('SLOT_FULL');
    }
    const { rows } = await system.pool.query<{ slot_id: string; n: string }>(
      'SELECT slot_id, count(*) AS n FROM tokens WHERE slot_id = ANY($1) GROUP BY slot_id',
      [slots],
    );
    expect(rows.map((r) => Number(r.n))).toEqual(slots.map(() => 2));
  });
});
