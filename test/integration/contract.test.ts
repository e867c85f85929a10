/** The public contract over HTTP, through the edge, against the real Kafka, PostgreSQL and Redis. */
import { call, createDoctorWithSlot, createSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(system.edgeUrl, method, path, body, headers);
const book = (slotId: string, source: string, name: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  api('POST', '/api/tokens/book', { slotId, source, patient: { name, phone: `+1 555 ${name.length}${Math.floor(Math.random() * 1e6)}` }, ...extra }, headers);
const viewOf = (slotId: string) => api('GET', `/api/tokens/view/${slotId}`);
const settledView = (slotId: string, accept: (body: any) => boolean) =>
  eventually(() => viewOf(slotId), (r) => r.status === 200 && accept(r.body));

beforeAll(async () => {
  system = await startSystem({ label: 'contract' });
});
afterAll(async () => {
  await system?.close();
});

describe('capacity under concurrency', () => {
  it('50 parallel bookings into a capacity-5 slot give exactly 5 BOOKED and 45 SLOT_FULL', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => book(slotId, 'ONLINE', `Patient ${i}`)));
    const booked = answers.filter((a) => a.status === 201);
    const full = answers.filter((a) => a.status === 409);
    expect(booked).toHaveLength(5);
    expect(full).toHaveLength(45);
    expect(full.every((a) => a.body.error.code === 'SLOT_FULL')).toBe(true);
    expect(booked.map((a) => a.body.token.number).sort()).toEqual([1, 2, 3, 4, 5]);

    const { rows } = await system.pool.query('SELECT number FROM tokens WHERE slot_id = $1 ORDER BY number', [slotId]);
    expect(rows.map((r) => r.number)).toEqual([1, 2, 3, 4, 5]);
    const view = await settledView(slotId, (v) => v.queue.length === 5);
    expect(view.body.slot).toMatchObject({ activeCount: 5, available: 0 });
    expect(view.body.queue.map((t: any) => t.position)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('priority and elastic capacity', () => {
  it('orders by weight then arrival, and inserts an emergency on top of a full slot without removing anyone', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    const walkIn = await book(slotId, 'WALK_IN', 'Walker');
    const online = await book(slotId, 'ONLINE', 'Onliner');
    const paid = await book(slotId, 'PAID_PRIORITY', 'Payer');
    expect([walkIn.status, online.status, paid.status]).toEqual([201, 201, 201]);
    expect(walkIn.body.token.status).toBe('CHECKED_IN');
    expect(paid.body.token.position).toBe(1);

    const first = await book(slotId, 'EMERGENCY', 'Emergency one');
    expect(first.status).toBe(201);
    expect(first.body.token).toMatchObject({ status: 'CHECKED_IN', position: 1, overCapacity: true, weight: 1 });
    const second = await book(slotId, 'EMERGENCY', 'Emergency two');
    expect(second.body.token).toMatchObject({ position: 2, overCapacity: true });

    const view = await settledView(slotId, (v) => v.queue.length === 5);
    expect(view.body.queue.map((t: any) => t.patient.name)).toEqual(['Emergency one', 'Emergency two', 'Payer', 'Onliner', 'Walker']);
    expect(view.body.slot).toMatchObject({ capacity: 3, activeCount: 5, available: 0 });

    const refused = await book(slotId, 'PAID_PRIORITY', 'Late payer');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SLOT_FULL');
  });

  it('marks an emergency in a slot with room as within capacity', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const emergency = await book(slotId, 'EMERGENCY', 'Early emergency');
    expect(emergency.body.token).toMatchObject({ overCapacity: false, position: 1 });
  });
});

describe('cancellation, waitlist and onFull', () => {
  it('cancel frees capacity at once so a new patient can book; cancelling again is idempotent', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const first = await book(slotId, 'ONLINE', 'First');
    expect((await book(slotId, 'ONLINE', 'Blocked')).status).toBe(409);
    const cancelled = await api('PATCH', `/api/tokens/${first.body.token.id}/cancel`, { reason: 'travel' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ token: { status: 'CANCELLED', position: null }, promoted: null });
    const again = await api('PATCH', `/api/tokens/${first.body.token.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body.token.status).toBe('CANCELLED');

    const rebooked = await book(slotId, 'ONLINE', 'Second');
    expect(rebooked.status).toBe(201);
    expect(rebooked.body.token.number).toBe(2);
  });

  it('waitlists on a full slot and promotes the best waitlisted token when a place frees', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const holder = await book(slotId, 'ONLINE', 'Holder');
    const walkIn = await book(slotId, 'WALK_IN', 'Waiting walker', { onFull: 'waitlist' });
    const followUp = await book(slotId, 'FOLLOW_UP', 'Waiting follow-up', { onFull: 'waitlist' });
    expect(walkIn.body.token).toMatchObject({ status: 'WAITLISTED', position: 1 });
    expect(followUp.body.token).toMatchObject({ status: 'WAITLISTED', position: 1 });

    const cancelled = await api('PATCH', `/api/tokens/${holder.body.token.id}/cancel`);
    expect(cancelled.body.promoted).toMatchObject({ id: followUp.body.token.id, status: 'BOOKED', position: 1 });
    const view = await settledView(slotId, (v) => v.waitlist.length === 1 && v.queue.length === 1);
    expect(view.body.waitlist[0]).toMatchObject({ id: walkIn.body.token.id, position: 1 });
  });

  it('an emergency overflow keeps the slot full: no promotion until activeCount < capacity', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const holder = await book(slotId, 'ONLINE', 'Holder');
    await book(slotId, 'EMERGENCY', 'Overflow');
    await book(slotId, 'ONLINE', 'Waiter', { onFull: 'waitlist' });
    const cancelled = await api('PATCH', `/api/tokens/${holder.body.token.id}/cancel`);
    expect(cancelled.body.promoted).toBeNull();
  });

  it('reject lists later slots with room; next-slot books into the earliest of them', async () => {
    const { id: doctorId, slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const laterId = await createSlot(system.edgeUrl, doctorId, { capacity: 2, startOffsetMinutes: 60 });
    await book(slotId, 'ONLINE', 'Only one');
    const rejected = await book(slotId, 'ONLINE', 'Rejected');
    expect(rejected.status).toBe(409);
    expect(rejected.body.error.details.alternatives.map((a: any) => a.slotId)).toEqual([laterId]);

    const moved = await book(slotId, 'ONLINE', 'Moved', { onFull: 'next-slot' });
    expect(moved.status).toBe(201);
    expect(moved.body.token).toMatchObject({ slotId: laterId, status: 'BOOKED', number: 1 });
  });

  it('next-slot with no later room answers SLOT_FULL', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    await book(slotId, 'ONLINE', 'Only one');
    const refused = await book(slotId, 'ONLINE', 'Nowhere', { onFull: 'next-slot' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SLOT_FULL');
  });
});

describe('idempotency and duplicates', () => {
  it('the same Idempotency-Key and body returns the same token (200); another body gets 422', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    const key = `key-${Date.now()}-${Math.random()}`;
    const body = { slotId, source: 'ONLINE', patient: { name: 'Retry', phone: '+1 555 0100' } };
    const first = await api('POST', '/api/tokens/book', body, { 'Idempotency-Key': key });
    const second = await api('POST', '/api/tokens/book', body, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.token.id).toBe(first.body.token.id);
    const other = await api('POST', '/api/tokens/book', { ...body, source: 'WALK_IN' }, { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const { rows } = await system.pool.query('SELECT count(*)::int AS n FROM tokens WHERE slot_id = $1', [slotId]);
    expect(rows[0].n).toBe(1);
  });

  it('a retry of a booking that went to the next slot returns that token, even once the first slot has room', async () => {
    const { id: doctorId, slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const laterId = await createSlot(system.edgeUrl, doctorId, { capacity: 2, startOffsetMinutes: 60 });
    const holder = await book(slotId, 'ONLINE', 'Holder');
    const key = `next-${Date.now()}-${Math.random()}`;
    const body = { slotId, source: 'ONLINE', onFull: 'next-slot', patient: { name: 'Moved on', phone: '+1 555 0142' } };
    const first = await api('POST', '/api/tokens/book', body, { 'Idempotency-Key': key });
    expect(first.body.token.slotId).toBe(laterId);
    await api('PATCH', `/api/tokens/${holder.body.token.id}/cancel`);

    const retry = await api('POST', '/api/tokens/book', body, { 'Idempotency-Key': key });
    expect(retry.status).toBe(200);
    expect(retry.body.token).toMatchObject({ id: first.body.token.id, slotId: laterId, number: 1 });
    const { rows } = await system.pool.query('SELECT slot_id FROM tokens WHERE id = $1', [first.body.token.id]);
    expect(rows).toEqual([{ slot_id: laterId }]);
    const view = await settledView(slotId, (v) => v.slot.activeCount === 0);
    expect(view.body.queue).toEqual([]);
  });

  it('refuses the same patient twice in a slot (by MRN, else phone)', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    const first = await api('POST', '/api/tokens/book', { slotId, source: 'ONLINE', patient: { name: 'A', mrn: 'MRN-1' } });
    const again = await api('POST', '/api/tokens/book', { slotId, source: 'WALK_IN', patient: { name: 'A again', mrn: 'MRN-1' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'DUPLICATE_BOOKING', details: { tokenId: first.body.token.id } });
  });
});

describe('day flow', () => {
  it('check-in, call-next (present patients only), complete, no-show, and illegal moves', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 4 });
    const online = await book(slotId, 'ONLINE', 'Not here yet');
    const walkIn = await book(slotId, 'WALK_IN', 'At the desk');
    const called = await api('POST', `/api/slots/${slotId}/call-next`);
    expect(called.status).toBe(200);
    expect(called.body.token).toMatchObject({ id: walkIn.body.token.id, status: 'CALLED', position: null });
    expect((await api('POST', `/api/slots/${slotId}/call-next`)).status).toBe(404);

    const checkedIn = await api('PATCH', `/api/tokens/${online.body.token.id}/check-in`);
    expect(checkedIn.body.token.status).toBe('CHECKED_IN');
    expect((await api('PATCH', `/api/tokens/${online.body.token.id}/check-in`)).body.error.code).toBe('INVALID_TRANSITION');

    const completed = await api('PATCH', `/api/tokens/${walkIn.body.token.id}/complete`);
    expect(completed.body.token.status).toBe('COMPLETED');
    const cancelCompleted = await api('PATCH', `/api/tokens/${walkIn.body.token.id}/cancel`);
    expect(cancelCompleted.status).toBe(409);
    expect(cancelCompleted.body.error.code).toBe('INVALID_TRANSITION');

    const noShow = await api('PATCH', `/api/tokens/${online.body.token.id}/no-show`);
    expect(noShow.status).toBe(200);
    expect(noShow.body).toMatchObject({ token: { status: 'NO_SHOW' }, promoted: null });
    const view = await settledView(slotId, (v) => v.slot.activeCount === 1);
    expect(view.body.slot.available).toBe(3);
  });

  it('reads a token by id, and 404s for unknown ids and slots', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const booked = await book(slotId, 'FOLLOW_UP', 'Reader');
    const token = await eventually(() => api('GET', `/api/tokens/${booked.body.token.id}`), (r) => r.status === 200);
    expect(token.body.token).toMatchObject({ id: booked.body.token.id, position: 1, status: 'BOOKED' });
    expect((await api('GET', '/api/tokens/no-such-token')).status).toBe(404);
    expect((await api('GET', '/api/tokens/view/no-such-slot')).status).toBe(404);
    expect((await api('PATCH', '/api/tokens/no-such-token/cancel')).status).toBe(404);
    const unknownSlot = await book('no-such-slot', 'ONLINE', 'Lost');
    expect(unknownSlot.status).toBe(404);
    expect(unknownSlot.body.error.code).toBe('NOT_FOUND');
  });

  it('refuses bookings into an ended slot with SLOT_CLOSED', async () => {
    const { id: doctorId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const endedId = await createSlot(system.edgeUrl, doctorId, { capacity: 2, startOffsetMinutes: -120, minutes: 60 });
    const answer = await book(endedId, 'ONLINE', 'Too late');
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('SLOT_CLOSED');
  });

  it('lists a doctor\'s slots by date and reads one slot', async () => {
    const { id: doctorId, slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const date = new Date().toISOString().slice(0, 10);
    const list = await api('GET', `/api/slots?doctorId=${doctorId}&date=${date}`);
    expect(list.status).toBe(200);
    expect(list.body.slots.map((s: any) => s.id)).toContain(slotId);
    const one = await api('GET', `/api/slots/${slotId}`);
    expect(one.body.slot).toMatchObject({ id: slotId, doctorId, capacity: 2, status: 'OPEN' });
  });
});
