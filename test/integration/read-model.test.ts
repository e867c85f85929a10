/** The Redis read model: slot indexes and recent calls, rebuilt from PostgreSQL after a flush. */
import { call, createDoctorWithSlot, createSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);

async function flushRunKeys(): Promise<number> {
  const keys = await system.redis.keys(`${system.prefix}*`);
  if (keys.length) await system.redis.del(...keys);
  return keys.length;
}

beforeAll(async () => {
  system = await startSystem({ label: 'readmodel' });
});
afterAll(async () => {
  await system?.close();
});

describe('read model in Redis', () => {
  it('lists a doctor\'s and a branch\'s slots from the indexes, and rebuilds them after a flush', async () => {
    const branchId = `rm-${Date.now()}`;
    const { id: doctorId, slotId: first } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3, branchId });
    const second = await createSlot(system.edgeUrl, doctorId, { capacity: 3, startOffsetMinutes: 60 });
    const listed = await eventually(() => api('GET', `/api/slots?doctorId=${doctorId}`), (r) => r.body?.slots?.length === 2);
    expect(listed.body.slots.map((s: { id: string }) => s.id)).toEqual([first, second]);

    expect(await flushRunKeys()).toBeGreaterThan(0);
    const rebuilt = await api('GET', `/api/slots?doctorId=${doctorId}`);
    expect(rebuilt.body.slots.map((s: { id: string }) => s.id)).toEqual([first, second]);
    const board = await api('GET', `/api/branches/${branchId}/slots?public=1`);
    expect(board.body.slots.map((s: { view: { slot: { id: string } } }) => s.view.slot.id)).toContain(first);

    const third = await createSlot(system.edgeUrl, doctorId, { capacity: 3, startOffsetMinutes: 120 });
    const later = await eventually(() => api('GET', `/api/slots?doctorId=${doctorId}`), (r) => r.body?.slots?.length === 3);
    expect(later.body.slots.map((s: { id: string }) => s.id)).toEqual([first, second, third]);
  });

  it('a token whose key was lost while its slot\'s keys survived (a partial flush) is rebuilt on read', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    const booked = await api('POST', '/api/tokens/book', { slotId, source: 'ONLINE', patient: { name: 'Lost Key', phone: '+1 555 0100' } });
    expect(booked.status).toBe(201);
    const tokenId = booked.body.token.id as string;
    const before = await eventually(() => api('GET', `/api/tokens/${tokenId}`), (r) => r.status === 200);

    // A flush removes keys in batches: here the token's key went, the slot's version and view stayed.
    expect(await system.redis.del(`${system.prefix}token:${tokenId}`)).toBe(1);
    const read = await api('GET', `/api/tokens/${tokenId}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(before.body);
    expect(await system.redis.exists(`${system.prefix}token:${tokenId}`)).toBe(1);
  });

  it('views carry the recent calls a board shows', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    const walkIn = await api('POST', '/api/tokens/book', { slotId, source: 'WALK_IN', patient: { name: 'Called soon' } });
    await api('POST', `/api/slots/${slotId}/call-next`);
    const view = await eventually(() => api('GET', `/api/tokens/view/${slotId}`), (r) => r.body?.recentCalls?.length === 1);
    expect(view.body.recentCalls[0]).toMatchObject({ id: walkIn.body.token.id, number: 1, status: 'CALLED' });
    expect(view.body.recentCalls[0].patient).toBeUndefined();
  });
});
