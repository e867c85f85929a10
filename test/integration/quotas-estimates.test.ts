/**
 * Per-source quotas and waiting estimates over HTTP, through the edge, against the real Kafka,
 * PostgreSQL and Redis.
 */
import { call, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);
let seq = 0;
const book = (slotId: string, source: string, name: string, extra: Record<string, unknown> = {}) =>
  api('POST', '/api/tokens/book', { slotId, source, patient: { name, mrn: `mrn-${Date.now()}-${++seq}` }, ...extra });
const settledView = (slotId: string, accept: (body: any) => boolean) =>
  eventually(() => api('GET', `/api/tokens/view/${slotId}`), (r) => r.status === 200 && accept(r.body));
const minutes = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000;

async function createDoctor(name = 'Dr. Quota'): Promise<string> {
  const doctor = await api('POST', '/api/doctors', { branchId: 'branch-q', name });
  expect(doctor.status).toBe(201);
  return doctor.body.doctor.id;
}

/** Slot bounds starting `offset` minutes from now, whole minutes, `length` minutes long. */
function bounds(offset: number, length = 60) {
  const start = Math.floor((Date.now() + offset * 60_000) / 60_000) * 60_000;
  return { start: new Date(start).toISOString(), end: new Date(start + length * 60_000).toISOString() };
}

async function createSlot(doctorId: string, body: Record<string, unknown>, offset: number, length = 60) {
  const res = await api('POST', '/api/slots', { doctorId, ...bounds(offset, length), ...body });
  expect(res.status).toBe(201);
  return res.body.slot;
}

beforeAll(async () => {
  system = await startSystem({ label: 'quotas' });
});
afterAll(async () => {
  await system?.close();
});

describe('per-source quotas', () => {
  it('capacity 10, 2 WALK_IN places until 30 min before start: 8 ONLINE, the 9th is SLOT_FULL, a WALK_IN still gets in', async () => {
    const doctorId = await createDoctor();
    const slot = await createSlot(doctorId, { capacity: 10, quotas: [{ source: 'WALK_IN', places: 2, releaseMinutesBeforeStart: 30 }] }, 90);
    expect(slot.quotas).toEqual([
      {
        source: 'WALK_IN',
        places: 2,
        releaseMinutesBeforeStart: 30,
        releasesAt: new Date(Date.parse(slot.start) - 30 * 60_000).toISOString(),
        filled: 0,
      },
    ]);
    for (let i = 0; i < 8; i += 1) expect((await book(slot.id, 'ONLINE', `Online ${i}`)).status).toBe(201);
    const ninth = await book(slot.id, 'ONLINE', 'Online 9');
    expect(ninth.status).toBe(409);
    expect(ninth.body.error.code).toBe('SLOT_FULL');
    expect(ninth.body.error.details).toMatchObject({ slotId: slot.id, reservedPlaces: 2 });
    const paid = await book(slot.id, 'PAID_PRIORITY', 'Payer');
    expect(paid.status).toBe(409);

    const walkIn = await book(slot.id, 'WALK_IN', 'Walker');
    expect(walkIn.status).toBe(201);
    expect(walkIn.body.token.status).toBe('CHECKED_IN');
    const emergency = await book(slot.id, 'EMERGENCY', 'Emergency');
    expect(emergency.body.token).toMatchObject({ status: 'CHECKED_IN', overCapacity: false });

    const view = await settledView(slot.id, (v) => v.slot.activeCount === 10);
    expect(view.body.slot).toMatchObject({ capacity: 10, activeCount: 10, available: 0 });
    expect(view.body.slot.quotas[0]).toMatchObject({ source: 'WALK_IN', filled: 1 });
    const listed = await api('GET', `/api/slots/${slot.id}`);
    expect(listed.body.slot.quotas[0].places).toBe(2);
  });

  it('a slot starting in 20 minutes has its 30-minute reservation already released', async () => {
    const doctorId = await createDoctor();
    const slot = await createSlot(doctorId, { capacity: 3, quotas: [{ source: 'WALK_IN', places: 2, releaseMinutesBeforeStart: 30 }] }, 20);
    for (let i = 0; i < 3; i += 1) expect((await book(slot.id, 'ONLINE', `Online ${i}`)).status).toBe(201);
    expect((await book(slot.id, 'ONLINE', 'One too many')).status).toBe(409);
  });

  it('waitlist: a booking shut out by the reservation waits, and a cancel promotes it', async () => {
    const doctorId = await createDoctor();
    const slot = await createSlot(doctorId, { capacity: 3, quotas: [{ source: 'WALK_IN', places: 1, releaseMinutesBeforeStart: 30 }] }, 120);
    const first = await book(slot.id, 'ONLINE', 'First');
    await book(slot.id, 'ONLINE', 'Second');
    const waiting = await book(slot.id, 'ONLINE', 'Waiting', { onFull: 'waitlist' });
    expect(waiting.status).toBe(201);
    expect(waiting.body.token).toMatchObject({ status: 'WAITLISTED', position: 1 });
    const view = await settledView(slot.id, (v) => v.waitlist.length === 1);
    expect(view.body.slot).toMatchObject({ activeCount: 2, available: 1 });

    const cancelled = await api('PATCH', `/api/tokens/${first.body.token.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.promoted).toMatchObject({ id: waiting.body.token.id, status: 'BOOKED' });
    expect((await book(slot.id, 'WALK_IN', 'Walker')).status).toBe(201);
  });

  it('validates quotas strictly and names the field', async () => {
    const doctorId = await createDoctor();
    const cases: [unknown, string][] = [
      [[{ source: 'EMERGENCY', places: 1, releaseMinutesBeforeStart: 0 }], 'quotas.0.source'],
      [
        [
          { source: 'WALK_IN', places: 1, releaseMinutesBeforeStart: 0 },
          { source: 'WALK_IN', places: 1, releaseMinutesBeforeStart: 10 },
        ],
        'quotas.1.source',
      ],
      [
        [
          { source: 'WALK_IN', places: 2, releaseMinutesBeforeStart: 0 },
          { source: 'ONLINE', places: 2, releaseMinutesBeforeStart: 0 },
        ],
        'quotas',
      ],
      [[{ source: 'WALK_IN', places: 0, releaseMinutesBeforeStart: 0 }], 'quotas.0.places'],
      [[{ source: 'WALK_IN', places: 1, releaseMinutesBeforeStart: -5 }], 'quotas.0.releaseMinutesBeforeStart'],
      [[{ source: 'WALK_IN', places: 1, releaseMinutesBeforeStart: 0, until: 'noon' }], 'quotas.0.until'],
      [[{ source: 'WALK_IN', places: 1 }], 'quotas.0.releaseMinutesBeforeStart'],
    ];
    for (const [quotas, field] of cases) {
      const res = await api('POST', '/api/slots', { doctorId, ...bounds(60), capacity: 3, quotas });
      expect({ field, status: res.status, code: res.body.error?.code }).toEqual({ field, status: 400, code: 'VALIDATION_ERROR' });
      expect(res.body.error.details.fields.map((f: any) => f.field)).toContain(field);
    }
  });

  it('lowering the capacity below the reserved places caps the reservations (last-listed quota first)', async () => {
    const doctorId = await createDoctor();
    const slot = await createSlot(
      doctorId,
      {
        capacity: 6,
        quotas: [
          { source: 'WALK_IN', places: 2, releaseMinutesBeforeStart: 30 },
          { source: 'FOLLOW_UP', places: 3, releaseMinutesBeforeStart: 0 },
        ],
      },
      90,
    );
    await book(slot.id, 'ONLINE', 'Online');
    const lowered = await api('PATCH', `/api/slots/${slot.id}/capacity`, { capacity: 3 });
    expect(lowered.status).toBe(200);
    expect(lowered.body.slot.capacity).toBe(3);
    expect(lowered.body.slot.quotas.map((q: any) => [q.source, q.places])).toEqual([
      ['WALK_IN', 2],
      ['FOLLOW_UP', 1],
    ]);
    // 2 free places, 3 still reserved: other sources wait; a quota source may take one while it
    // leaves the other source's unfilled place free.
    expect((await book(slot.id, 'ONLINE', 'Blocked')).status).toBe(409);
    expect((await book(slot.id, 'WALK_IN', 'Walker')).status).toBe(201);
    expect((await book(slot.id, 'FOLLOW_UP', 'Follow-up')).status).toBe(409);
    const lowest = await api('PATCH', `/api/slots/${slot.id}/capacity`, { capacity: 1 });
    expect(lowest.status).toBe(200);
    expect(lowest.body.slot.quotas.map((q: any) => [q.source, q.places])).toEqual([['WALK_IN', 1]]);
  });
});

describe('waiting estimates', () => {
  it('estimatedAt = start + (position - 1) x average for a future slot; a delay shifts it', async () => {
    const doctorId = await createDoctor('Dr. Estimate');
    // 60 minutes / 6 places: a 10-minute average before anything is measured.
    const slot = await createSlot(doctorId, { capacity: 6 }, 60);
    expect(slot.averageConsultationMinutes).toBe(10);
    const walkIn = await book(slot.id, 'WALK_IN', 'Walker');
    const online = await book(slot.id, 'ONLINE', 'Onliner');
    const paid = await book(slot.id, 'PAID_PRIORITY', 'Payer');
    expect(minutes(slot.start, paid.body.token.estimatedAt)).toBe(0);

    const view = await settledView(slot.id, (v) => v.queue.length === 3);
    expect(view.body.queue.map((t: any) => [t.id, minutes(slot.start, t.estimatedAt)])).toEqual([
      [paid.body.token.id, 0],
      [online.body.token.id, 10],
      [walkIn.body.token.id, 20],
    ]);

    expect((await api('PATCH', `/api/slots/${slot.id}/delay`, { minutes: 15 })).status).toBe(200);
    const delayed = await settledView(slot.id, (v) => v.slot.delayMinutes === 15);
    expect(delayed.body.queue.map((t: any) => minutes(slot.start, t.estimatedAt))).toEqual([15, 25, 35]);
    const token = await eventually(
      () => api('GET', `/api/tokens/${walkIn.body.token.id}`),
      (r) => r.status === 200 && minutes(slot.start, r.body.token.estimatedAt) === 35,
    );
    expect(minutes(slot.start, token.body.token.estimatedAt)).toBe(35);
  });

  it('a running slot: calledAt/completedAt are kept, the average learns, and estimates count from the last change', async () => {
    const doctorId = await createDoctor('Dr. Running');
    const slot = await createSlot(doctorId, { capacity: 6 }, -5);
    const a = await book(slot.id, 'WALK_IN', 'A');
    const b = await book(slot.id, 'WALK_IN', 'B');
    const c = await book(slot.id, 'WALK_IN', 'C');

    const called = await api('POST', `/api/slots/${slot.id}/call-next`);
    expect(called.body.token).toMatchObject({ id: a.body.token.id, status: 'CALLED' });
    expect(called.body.token.calledAt).toEqual(expect.any(String));
    expect(called.body.token.estimatedAt).toBeUndefined();
    const completed = await api('PATCH', `/api/tokens/${a.body.token.id}/complete`);
    expect(completed.status).toBe(200);
    expect(completed.body.token.completedAt).toEqual(expect.any(String));
    // A consultation of a few milliseconds counts as the 1-minute minimum: 10 + 0.3 x (1 - 10) = 7.3.
    const beforeCall = Date.now();
    const second = await api('POST', `/api/slots/${slot.id}/call-next`);
    expect(second.body.token.id).toBe(b.body.token.id);
    const view = await settledView(slot.id, (v) => v.nowServing.length === 1 && v.nowServing[0].id === b.body.token.id);
    expect(view.body.slot.averageConsultationMinutes).toBe(7.3);
    const [waiting] = view.body.queue;
    expect(waiting.id).toBe(c.body.token.id);
    // One patient being seen ahead of position 1: one average after the last change.
    const offset = minutes(new Date(beforeCall).toISOString(), waiting.estimatedAt);
    expect(offset).toBeGreaterThan(7.3 - 0.5);
    expect(offset).toBeLessThan(7.3 + 0.5);

    const { rows } = await system.pool.query(
      'SELECT consultation_minutes, consultation_samples, estimate_base FROM slots WHERE id = $1',
      [slot.id],
    );
    expect(rows[0]).toMatchObject({ consultation_minutes: 7.3, consultation_samples: 1 });
    const tokenRows = await system.pool.query('SELECT called_at, completed_at FROM tokens WHERE id = $1', [a.body.token.id]);
    expect(tokenRows.rows[0].called_at).toBeInstanceOf(Date);
    expect(tokenRows.rows[0].completed_at).toBeInstanceOf(Date);

    // The read side rebuilt from PostgreSQL gives the very same view (estimates use the stored estimateBase).
    await system.redis.del(`${system.prefix}ver:${slot.id}`, `${system.prefix}view:${slot.id}`, `${system.prefix}slot:${slot.id}`);
    const rebuilt = await api('GET', `/api/tokens/view/${slot.id}`);
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toEqual(view.body);

    // The doctor's next slot starts from the learned average.
    const next = await createSlot(doctorId, { capacity: 4 }, 120);
    expect(next.averageConsultationMinutes).toBe(7.3);
  });
});
