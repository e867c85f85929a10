/**
 * PATCH /api/tokens/{id}/transfer over HTTP, through the edge, against the real Kafka, PostgreSQL
 * and Redis: the target slot books first, then the source lets the old token go (or the target
 * cancels what it booked).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createApiKey, createKafka, createProducer, topicNames, transferredTokenId, type Command, type Role } from '@opd/shared';
import { call, createDoctorWithSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);
let seq = 0;
const book = (slotId: string, source: string, name: string, extra: Record<string, unknown> = {}) =>
  api('POST', '/api/tokens/book', { slotId, source, patient: { name, mrn: `mrn-${Date.now()}-${++seq}` }, ...extra });
const settledView = (slotId: string, accept: (body: any) => boolean) =>
  eventually(() => api('GET', `/api/tokens/view/${slotId}`), (r) => r.status === 200 && accept(r.body));
const transfer = (tokenId: string, body: unknown) => api('PATCH', `/api/tokens/${tokenId}/transfer`, body);
/** Two doctors of one branch, one slot each. */
async function twoSlots(sourceCapacity: number, targetCapacity: number, branchId = 'branch-a') {
  const source = await createDoctorWithSlot(system.edgeUrl, { capacity: sourceCapacity, name: 'Dr. Source', branchId });
  const target = await createDoctorWithSlot(system.edgeUrl, { capacity: targetCapacity, name: 'Dr. Target', branchId });
  return { src: source.slotId, dst: target.slotId };
}

beforeAll(async () => {
  system = await startSystem({ label: 'transfer' });
});
afterAll(async () => {
  await system?.close();
});

describe('PATCH /api/tokens/{id}/transfer', () => {
  it('keeps source, weight and arrival: a transferred FOLLOW_UP booked earlier is ahead of a later FOLLOW_UP', async () => {
    const { src, dst } = await twoSlots(3, 3);
    const early = await book(src, 'FOLLOW_UP', 'Early follow-up');
    const later = await book(dst, 'FOLLOW_UP', 'Later follow-up');
    const oldId = early.body.token.id;

    const res = await transfer(oldId, { slotId: dst });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(oldId);
    expect(res.body.token).toMatchObject({
      id: transferredTokenId(oldId, dst),
      slotId: dst,
      source: 'FOLLOW_UP',
      weight: 3,
      status: 'BOOKED',
      movedFrom: oldId,
      patient: early.body.token.patient,
    });
    expect(res.body.token.label).toMatch(/^TAR-\d{3}$/);

    const view = await settledView(dst, (v) => v.queue.length === 2);
    expect(view.body.queue.map((t: any) => [t.id, t.position])).toEqual([
      [res.body.token.id, 1],
      [later.body.token.id, 2],
    ]);
    const old = await eventually(() => api('GET', `/api/tokens/${oldId}`), (r) => r.body?.token?.status === 'MOVED');
    expect(old.body.token).toMatchObject({ status: 'MOVED', movedTo: res.body.token.id, position: null });
    const fresh = await api('GET', `/api/tokens/${res.body.token.id}`);
    expect(fresh.body.token).toMatchObject({ movedFrom: oldId, slotId: dst });
    const source = await settledView(src, (v) => v.slot.activeCount === 0);
    expect(source.body.queue).toEqual([]);
  });

  it('frees the place at the source: a waitlisted token there is promoted', async () => {
    const { src, dst } = await twoSlots(1, 2);
    const holder = await book(src, 'ONLINE', 'Holder');
    const waiting = await book(src, 'WALK_IN', 'Waiting', { onFull: 'waitlist' });
    expect(waiting.body.token.status).toBe('WAITLISTED');

    const res = await transfer(holder.body.token.id, { slotId: dst, onFull: 'reject' });
    expect(res.status).toBe(200);
    expect(res.body.promoted).toMatchObject({ id: waiting.body.token.id, status: 'BOOKED' });
    const source = await settledView(src, (v) => v.waitlist.length === 0);
    expect(source.body.queue.map((t: any) => t.id)).toEqual([waiting.body.token.id]);
    expect(source.body.slot).toMatchObject({ capacity: 1, activeCount: 1 });
  });

  it('a checked-in patient stays checked in; an emergency keeps weight 1 and goes over capacity', async () => {
    const { src, dst } = await twoSlots(3, 2);
    await book(dst, 'PAID_PRIORITY', 'Already there');
    const online = await book(src, 'ONLINE', 'Present');
    await api('PATCH', `/api/tokens/${online.body.token.id}/check-in`);
    const emergency = await book(src, 'EMERGENCY', 'Emergency');

    const present = await transfer(online.body.token.id, { slotId: dst });
    expect(present.status).toBe(200);
    expect(present.body.token).toMatchObject({ source: 'ONLINE', weight: 4, status: 'CHECKED_IN', overCapacity: false });

    const moved = await transfer(emergency.body.token.id, { slotId: dst }); // dst is full now
    expect(moved.status).toBe(200);
    expect(moved.body.token).toMatchObject({ weight: 1, source: 'EMERGENCY', overCapacity: true, status: 'CHECKED_IN', position: 1 });
    const view = await settledView(dst, (v) => v.queue.length === 3);
    expect(view.body.slot).toMatchObject({ capacity: 2, activeCount: 3, available: 0 });
  });

  it('a full target answers 409 SLOT_FULL and the source is unchanged; onFull waitlist waits there', async () => {
    const { src, dst } = await twoSlots(2, 1);
    await book(dst, 'WALK_IN', 'Holder');
    const patient = await book(src, 'ONLINE', 'Patient');
    const before = await settledView(src, (v) => v.queue.length === 1);

    const refused = await transfer(patient.body.token.id, { slotId: dst });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SLOT_FULL');
    const token = await api('GET', `/api/tokens/${patient.body.token.id}`);
    expect(token.body.token).toMatchObject({ status: 'BOOKED', slotId: src });
    expect(token.body.token.movedTo).toBeUndefined();
    const after = await api('GET', `/api/tokens/view/${src}`);
    expect(after.body.version).toBe(before.body.version);
    const target = await api('GET', `/api/tokens/view/${dst}`);
    expect([...target.body.queue, ...target.body.waitlist]).toHaveLength(1);

    const waited = await transfer(patient.body.token.id, { slotId: dst, onFull: 'waitlist' });
    expect(waited.status).toBe(200);
    expect(waited.body.token).toMatchObject({ status: 'WAITLISTED', position: 1, movedFrom: patient.body.token.id });
  });

  it('a token that no longer waits: 409 INVALID_TRANSITION', async () => {
    const { src, dst } = await twoSlots(3, 3);
    const cancelled = await book(src, 'ONLINE', 'Gone');
    await api('PATCH', `/api/tokens/${cancelled.body.token.id}/cancel`);
    const walkIn = await book(src, 'WALK_IN', 'Called');
    expect((await api('POST', `/api/slots/${src}/call-next`)).body.token.id).toBe(walkIn.body.token.id);

    for (const [id, from] of [
      [cancelled.body.token.id, 'CANCELLED'],
      [walkIn.body.token.id, 'CALLED'],
    ]) {
      const res = await transfer(id, { slotId: dst });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'INVALID_TRANSITION', details: { tokenId: id, from } });
    }
    const target = await api('GET', `/api/tokens/view/${dst}`);
    expect(target.body.queue).toEqual([]);
  });

  it('unknown token or slot 404; same slot, another branch and bad bodies 400', async () => {
    const { src, dst } = await twoSlots(2, 2);
    const token = await book(src, 'ONLINE', 'Someone');
    const id = token.body.token.id;
    expect((await transfer('no-such-token', { slotId: dst })).status).toBe(404);
    const unknownSlot = await transfer(id, { slotId: 'no-such-slot' });
    expect(unknownSlot.status).toBe(404);
    expect(unknownSlot.body.error.code).toBe('NOT_FOUND');

    const same = await transfer(id, { slotId: src });
    expect(same.status).toBe(400);
    expect(same.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'slotId' }] } });

    const elsewhere = await createDoctorWithSlot(system.edgeUrl, { capacity: 2, branchId: 'branch-b' });
    const crossBranch = await transfer(id, { slotId: elsewhere.slotId });
    expect(crossBranch.status).toBe(400);
    expect(crossBranch.body.error.details.fields[0].field).toBe('slotId');

    for (const body of [{}, { slotId: dst, onFull: 'next-slot' }, { slotId: dst, extra: 1 }, { slotId: 42 }]) {
      const res = await transfer(id, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await api('GET', `/api/tokens/${id}`)).body.token.status).toBe('BOOKED');
  });

  it('a retried request or a replayed command books no second token', async () => {
    const { src, dst } = await twoSlots(2, 2);
    const third = await createDoctorWithSlot(system.edgeUrl, { capacity: 2, name: 'Dr. Third' });
    const patient = await book(src, 'PAID_PRIORITY', 'Retried');
    const oldId = patient.body.token.id;

    const first = await transfer(oldId, { slotId: dst });
    expect(first.status).toBe(200);
    const retry = await transfer(oldId, { slotId: dst });
    expect(retry.status).toBe(200);
    expect(retry.body.token.id).toBe(first.body.token.id);
    expect(retry.body.from).toBe(oldId);
    // Moved already: not to a third slot.
    const elsewhere = await transfer(oldId, { slotId: third.slotId });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.code).toBe('INVALID_TRANSITION');

    // The same transfer-in command delivered twice more by Kafka.
    const logger = pino({ level: 'silent' });
    const producer = createProducer(createKafka(system.kafkaConfig, logger));
    await producer.connect();
    try {
      const command: Command = {
        schemaVersion: 1,
        commandId: randomUUID(),
        slotId: dst,
        issuedAt: new Date().toISOString(),
        type: 'token.transfer-in',
        tokenId: first.body.token.id,
        source: 'PAID_PRIORITY',
        patient: patient.body.token.patient,
        arrivalAt: new Date().toISOString(),
        present: false,
        onFull: 'reject',
        fromTokenId: oldId,
        fromSlotId: src,
      };
      const message = { key: dst, value: JSON.stringify(command) };
      await producer.send({ topic: topicNames(system.prefix).commands, messages: [message, message] });

      // A marker booked after the replays: once it shows, the replays were applied.
      const marker = await book(dst, 'WALK_IN', 'Marker');
      expect(marker.status).toBe(201);
      const view = await settledView(dst, (v) => v.queue.some((t: any) => t.id === marker.body.token.id));
      const moved = view.body.queue.filter((t: any) => t.movedFrom === oldId);
      expect(moved.map((t: any) => t.id)).toEqual([first.body.token.id]);
      expect(view.body.slot.activeCount).toBe(2);
      const { rows } = await system.pool.query('SELECT count(*)::int AS n FROM tokens WHERE moved_from = $1', [oldId]);
      expect(rows[0].n).toBe(1);
      expect((await api('GET', `/api/tokens/${oldId}`)).body.token).toMatchObject({ status: 'MOVED', movedTo: first.body.token.id });

      // Compensation end to end: a transfer-in for a token cancelled at the source (the gateway's
      // check bypassed, as in a race) books, the source refuses, and the target cancels it again.
      const gone = await book(src, 'ONLINE', 'Left meanwhile');
      await api('PATCH', `/api/tokens/${gone.body.token.id}/cancel`);
      const raced: Command = {
        ...command,
        commandId: randomUUID(),
        slotId: third.slotId,
        tokenId: transferredTokenId(gone.body.token.id, third.slotId),
        patient: gone.body.token.patient,
        source: 'ONLINE',
        fromTokenId: gone.body.token.id,
      };
      await producer.send({ topic: topicNames(system.prefix).commands, messages: [{ key: third.slotId, value: JSON.stringify(raced) }] });
      const compensated = await eventually(
        () => api('GET', `/api/tokens/${raced.tokenId}`),
        (r) => r.body?.token?.status === 'CANCELLED',
      );
      expect(compensated.body.token).toMatchObject({ status: 'CANCELLED', movedFrom: gone.body.token.id });
      expect((await api('GET', `/api/tokens/${gone.body.token.id}`)).body.token.status).toBe('CANCELLED');
      const thirdView = await settledView(third.slotId, (v) => v.slot.activeCount === 0);
      expect([...thirdView.body.queue, ...thirdView.body.waitlist]).toEqual([]);
    } finally {
      await producer.disconnect();
    }
  });
});

describe('PATCH /api/tokens/{id}/transfer with AUTH on', () => {
  let secured: TestSystem;
  const keys: Record<string, string> = {};
  const as = (who: string, method: string, path: string, body?: unknown) =>
    call(secured.edgeUrl, method, path, body, { authorization: `Bearer ${keys[who]}` });
  let slotA: string;
  let slotA2: string;
  let slotB: string;

  beforeAll(async () => {
    secured = await startSystem({ label: 'transfer-auth', auth: 'on', rateLimitPerSecond: 0 });
    const make = async (name: string, role: Role, branchId: string | null) => {
      keys[name] = (await createApiKey(secured.pool, { role, branchId, label: `test ${name}` })).key;
    };
    await make('admin', 'admin', null);
    await make('desk', 'desk', 'branch-a');
    await make('deskB', 'desk', 'branch-b');
    await make('portal', 'portal', 'branch-a');
    await make('er', 'er', 'branch-a');
    const slot = async (branchId: string) => {
      const doctor = await as('admin', 'POST', '/api/doctors', { branchId, name: 'Dr. Keyed' });
      const start = Date.now();
      const created = await as('admin', 'POST', '/api/slots', {
        doctorId: doctor.body.doctor.id,
        start: new Date(start).toISOString(),
        end: new Date(start + 3600_000).toISOString(),
        capacity: 10,
      });
      return created.body.slot.id as string;
    };
    slotA = await slot('branch-a');
    slotA2 = await slot('branch-a');
    slotB = await slot('branch-b');
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('desk and admin may transfer; other roles 403; another branch 404', async () => {
    const booked = await as('desk', 'POST', '/api/tokens/book', { slotId: slotA, source: 'ONLINE', patient: { name: 'Keyed', mrn: `k-${Date.now()}` } });
    const id = booked.body.token.id;
    for (const who of ['portal', 'er']) {
      const res = await as(who, 'PATCH', `/api/tokens/${id}/transfer`, { slotId: slotA2 });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    // Another branch's key does not see the token; a branch-a key does not see branch-b's slot.
    expect((await as('deskB', 'PATCH', `/api/tokens/${id}/transfer`, { slotId: slotB })).status).toBe(404);
    expect((await as('desk', 'PATCH', `/api/tokens/${id}/transfer`, { slotId: slotB })).status).toBe(404);

    const res = await as('desk', 'PATCH', `/api/tokens/${id}/transfer`, { slotId: slotA2 });
    expect(res.status).toBe(200);
    expect(res.body.token).toMatchObject({ slotId: slotA2, movedFrom: id });
    const back = await as('admin', 'PATCH', `/api/tokens/${res.body.token.id}/transfer`, { slotId: slotA });
    expect(back.status).toBe(200);
    expect(back.body.token).toMatchObject({ slotId: slotA, movedFrom: res.body.token.id });
  });
});
