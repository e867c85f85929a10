/**
 * Day-flow extensions over HTTP, through the edge, against the real Kafka, PostgreSQL and Redis:
 * capacity change, delay, close with reallocation, recall, token labels.
 */
import { call, createDoctorWithSlot, createSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);
let seq = 0;
const book = (slotId: string, source: string, name: string, extra: Record<string, unknown> = {}) =>
  api('POST', '/api/tokens/book', { slotId, source, patient: { name, mrn: `mrn-${Date.now()}-${++seq}` }, ...extra });
const settledView = (slotId: string, accept: (body: any) => boolean) =>
  eventually(() => api('GET', `/api/tokens/view/${slotId}`), (r) => r.status === 200 && accept(r.body));

beforeAll(async () => {
  system = await startSystem({ label: 'dayflow' });
});
afterAll(async () => {
  await system?.close();
});

describe('PATCH /api/slots/{slotId}/capacity', () => {
  it('an increase promotes waitlisted tokens by weight, then arrival', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    await book(slotId, 'ONLINE', 'Holder');
    const walkIn = await book(slotId, 'WALK_IN', 'Waiting walker', { onFull: 'waitlist' });
    const online = await book(slotId, 'ONLINE', 'Waiting online', { onFull: 'waitlist' });
    const followUp = await book(slotId, 'FOLLOW_UP', 'Waiting follow-up', { onFull: 'waitlist' });
    expect([walkIn, online, followUp].map((r) => r.body.token.status)).toEqual(['WAITLISTED', 'WAITLISTED', 'WAITLISTED']);

    const res = await api('PATCH', `/api/slots/${slotId}/capacity`, { capacity: 3 });
    expect(res.status).toBe(200);
    expect(res.body.slot).toMatchObject({ id: slotId, capacity: 3, activeCount: 3, available: 0 });
    expect(res.body.promoted.map((t: any) => [t.id, t.status])).toEqual([
      [followUp.body.token.id, 'BOOKED'],
      [online.body.token.id, 'BOOKED'],
    ]);
    expect(res.body.moved).toEqual([]);
    const view = await settledView(slotId, (v) => v.slot.capacity === 3);
    expect(view.body.waitlist.map((t: any) => t.id)).toEqual([walkIn.body.token.id]);
    expect(view.body.queue).toHaveLength(3);
  });

  it('a decrease moves the newest lowest-priority BOOKED tokens to the waitlist; nobody is removed', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    const paid = await book(slotId, 'PAID_PRIORITY', 'Payer');
    const online1 = await book(slotId, 'ONLINE', 'Online one');
    const walkIn = await book(slotId, 'WALK_IN', 'Walker'); // CHECKED_IN on issue: not movable
    const online2 = await book(slotId, 'ONLINE', 'Online two');
    const followUp = await book(slotId, 'FOLLOW_UP', 'Follow-up');
    const emergency = await book(slotId, 'EMERGENCY', 'Emergency'); // over capacity
    expect(emergency.body.token.overCapacity).toBe(true);

    const res = await api('PATCH', `/api/slots/${slotId}/capacity`, { capacity: 2 });
    expect(res.status).toBe(200);
    // Non-emergency holders 5 -> 2: three move, the newest lowest-priority first.
    expect(res.body.moved.map((t: any) => t.id)).toEqual([online2.body.token.id, online1.body.token.id, followUp.body.token.id]);
    expect(res.body.moved.every((t: any) => t.status === 'WAITLISTED')).toBe(true);
    expect(res.body.promoted).toEqual([]);
    expect(res.body.slot).toMatchObject({ capacity: 2, activeCount: 3, available: 0 });

    const view = await settledView(slotId, (v) => v.slot.capacity === 2);
    expect(view.body.queue.map((t: any) => t.id)).toEqual([emergency.body.token.id, paid.body.token.id, walkIn.body.token.id]);
    expect(view.body.waitlist.map((t: any) => [t.id, t.position])).toEqual([
      [followUp.body.token.id, 1],
      [online1.body.token.id, 2],
      [online2.body.token.id, 3],
    ]);
  });

  it('validates the body strictly and answers 404 for an unknown slot', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    for (const body of [{ capacity: 0 }, { capacity: 1.5 }, { capacity: '3' }, {}, { capacity: 3, extra: true }]) {
      const res = await api('PATCH', `/api/slots/${slotId}/capacity`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const unknown = await api('PATCH', '/api/slots/no-such-slot/capacity', { capacity: 3 });
    expect(unknown.status).toBe(404);
  });
});

describe('PATCH /api/slots/{slotId}/delay', () => {
  it('adds up on the slot (delayMinutes); start and end stay', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const before = await eventually(() => api('GET', `/api/slots/${slotId}`), (r) => r.status === 200);
    expect(before.body.slot.delayMinutes).toBe(0);

    const first = await api('PATCH', `/api/slots/${slotId}/delay`, { minutes: 20 });
    expect(first.status).toBe(200);
    expect(first.body.slot).toMatchObject({ id: slotId, delayMinutes: 20 });
    const second = await api('PATCH', `/api/slots/${slotId}/delay`, { minutes: 15 });
    expect(second.body.slot).toMatchObject({ delayMinutes: 35, start: before.body.slot.start, end: before.body.slot.end });

    const shown = await eventually(() => api('GET', `/api/slots/${slotId}`), (r) => r.body?.slot?.delayMinutes === 35);
    expect(shown.body.slot).toMatchObject({ delayMinutes: 35, start: before.body.slot.start });
    for (const body of [{ minutes: 0 }, { minutes: 601 }, { minutes: 5, why: 'late' }]) {
      expect((await api('PATCH', `/api/slots/${slotId}/delay`, body)).status).toBe(400);
    }
  });
});

describe('POST /api/slots/{slotId}/close', () => {
  it('closes the slot, marks its live tokens MOVED and reallocates them into the later slot in priority order', async () => {
    const { id: doctorId, slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 4, name: 'Dr. Closer' });
    const laterId = await createSlot(system.edgeUrl, doctorId, { capacity: 3, startOffsetMinutes: 90 });
    const online = await book(slotId, 'ONLINE', 'Online');
    const walkIn = await book(slotId, 'WALK_IN', 'Walker');
    const paid = await book(slotId, 'PAID_PRIORITY', 'Payer');
    const followUp = await book(slotId, 'FOLLOW_UP', 'Follow-up');
    const waiting = await book(slotId, 'ONLINE', 'Waiting', { onFull: 'waitlist' });
    expect(waiting.body.token.status).toBe('WAITLISTED');
    const oldIds = [paid, followUp, online, walkIn, waiting].map((r) => r.body.token.id);

    const res = await api('POST', `/api/slots/${slotId}/close`);
    expect(res.status).toBe(200);
    expect(res.body.slot).toMatchObject({ id: slotId, status: 'CLOSED', activeCount: 0 });
    expect(res.body.tokens.map((t: any) => t.id)).toEqual(oldIds);
    expect(res.body.tokens.every((t: any) => t.status === 'MOVED' && t.position === null)).toBe(true);

    // The later slot (capacity 3) takes the three best in priority order; the rest wait there.
    const later = await settledView(laterId, (v) => v.queue.length + v.waitlist.length === 5);
    expect(later.body.queue.map((t: any) => [t.patient.name, t.movedFrom])).toEqual([
      ['Payer', paid.body.token.id],
      ['Follow-up', followUp.body.token.id],
      ['Online', online.body.token.id],
    ]);
    expect(later.body.waitlist.map((t: any) => t.patient.name)).toEqual(['Waiting', 'Walker']);
    expect(later.body.slot).toMatchObject({ capacity: 3, activeCount: 3 });
    const moved = [...later.body.queue, ...later.body.waitlist];
    // Source and weight are kept.
    expect(moved.find((t: any) => t.patient.name === 'Payer')).toMatchObject({ source: 'PAID_PRIORITY', weight: 2 });

    // Each old token learns where its patient went.
    for (const old of [paid, followUp, online, walkIn, waiting]) {
      const replacement = moved.find((t: any) => t.movedFrom === old.body.token.id);
      const seen = await eventually(
        () => api('GET', `/api/tokens/${old.body.token.id}`),
        (r) => r.body?.token?.movedTo === replacement.id,
      );
      expect(seen.body.token).toMatchObject({ status: 'MOVED', movedTo: replacement.id });
    }

    // A closed slot refuses bookings; closing again is harmless.
    const refused = await book(slotId, 'ONLINE', 'Too late');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SLOT_CLOSED');
    const again = await api('POST', `/api/slots/${slotId}/close`);
    expect(again.status).toBe(200);
    expect(again.body.tokens).toEqual([]);
  });

  it('goes down the later slots while they are full, then waitlists in the earliest one', async () => {
    const { id: doctorId, slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    const firstLater = await createSlot(system.edgeUrl, doctorId, { capacity: 1, startOffsetMinutes: 60 });
    const secondLater = await createSlot(system.edgeUrl, doctorId, { capacity: 1, startOffsetMinutes: 120 });
    const walkIn = await book(slotId, 'WALK_IN', 'Walker');
    const paid = await book(slotId, 'PAID_PRIORITY', 'Payer');
    const online = await book(slotId, 'ONLINE', 'Online');

    const res = await api('POST', `/api/slots/${slotId}/close`);
    expect(res.body.tokens.map((t: any) => t.id)).toEqual([paid, online, walkIn].map((r) => r.body.token.id));
    const first = await settledView(firstLater, (v) => v.queue.length === 1 && v.waitlist.length === 1);
    expect(first.body.queue.map((t: any) => t.patient.name)).toEqual(['Payer']);
    expect(first.body.waitlist.map((t: any) => t.patient.name)).toEqual(['Walker']);
    const second = await settledView(secondLater, (v) => v.queue.length === 1);
    expect(second.body.queue.map((t: any) => [t.patient.name, t.movedFrom])).toEqual([['Online', online.body.token.id]]);
  });

  it('with no later slot the tokens are MOVED with movedTo null', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const token = await book(slotId, 'ONLINE', 'Stranded');
    const res = await api('POST', `/api/slots/${slotId}/close`);
    expect(res.status).toBe(200);
    expect(res.body.tokens).toEqual([expect.objectContaining({ id: token.body.token.id, status: 'MOVED', movedTo: null })]);
    expect((await api('POST', `/api/slots/${slotId}/close`, { now: true })).status).toBe(400);
  });
});

describe('PATCH /api/tokens/{id}/recall', () => {
  it('only from CALLED: increments recallCount and bumps the version', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2 });
    const walkIn = await book(slotId, 'WALK_IN', 'Walker');
    const id = walkIn.body.token.id;
    const early = await api('PATCH', `/api/tokens/${id}/recall`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('INVALID_TRANSITION');

    expect((await api('POST', `/api/slots/${slotId}/call-next`)).body.token).toMatchObject({ id, status: 'CALLED' });
    const calledView = await settledView(slotId, (v) => v.nowServing.length === 1);
    const first = await api('PATCH', `/api/tokens/${id}/recall`);
    expect(first.status).toBe(200);
    expect(first.body.token).toMatchObject({ id, status: 'CALLED', recallCount: 1 });
    const second = await api('PATCH', `/api/tokens/${id}/recall`);
    expect(second.body.token.recallCount).toBe(2);
    const view = await settledView(slotId, (v) => v.nowServing[0]?.recallCount === 2);
    expect(view.body.version).toBeGreaterThanOrEqual(calledView.body.version + 2);

    await api('PATCH', `/api/tokens/${id}/complete`);
    const late = await api('PATCH', `/api/tokens/${id}/recall`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('INVALID_TRANSITION');
    expect((await api('PATCH', '/api/tokens/no-such-token/recall')).status).toBe(404);
    expect((await api('PATCH', `/api/tokens/${id}/recall`, { loud: true })).status).toBe(400);
  });
});

describe('token labels', () => {
  it('PREFIX-NNN: the doctor prefix and a daily counter that continues across the doctor slots', async () => {
    const doctor = await api('POST', '/api/doctors', { branchId: 'branch-a', name: 'Dr. Smith' });
    const doctorId = doctor.body.doctor.id;
    const firstSlot = await createSlot(system.edgeUrl, doctorId, { capacity: 3, startOffsetMinutes: -10 });
    const secondSlot = await createSlot(system.edgeUrl, doctorId, { capacity: 2, startOffsetMinutes: 60 });

    const a = await book(firstSlot, 'ONLINE', 'A');
    const b = await book(firstSlot, 'WALK_IN', 'B');
    expect(a.body.token).toMatchObject({ number: 1, label: 'SMI-001' });
    expect(b.body.token).toMatchObject({ number: 2, label: 'SMI-002' });
    expect(a.body.token.label).toMatch(/^[A-Z]{3}-\d{3}$/);

    const c = await book(secondSlot, 'ONLINE', 'C');
    const sameDay = new Date(Date.now() - 10 * 60_000).toISOString().slice(0, 10) === new Date(Date.now() + 60 * 60_000).toISOString().slice(0, 10);
    expect(c.body.token).toMatchObject({ number: 1, label: sameDay ? 'SMI-004' : 'SMI-001' });

    const view = await settledView(firstSlot, (v) => v.queue.length === 2);
    expect(view.body.queue.map((t: any) => t.label).sort()).toEqual(['SMI-001', 'SMI-002']);
  });
});
