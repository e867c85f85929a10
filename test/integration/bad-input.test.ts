/** Every kind of bad input in the contract gets its 4xx, in the contract's error shape, and changes nothing. */
import { call, createDoctorWithSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let slotId: string;
let doctorId: string;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(system.edgeUrl, method, path, body, headers);

async function slotSnapshot() {
  const { rows } = await system.pool.query(
    'SELECT s.version, (SELECT count(*)::int FROM tokens t WHERE t.slot_id = s.id) AS tokens FROM slots s WHERE s.id = $1',
    [slotId],
  );
  return rows[0];
}

beforeAll(async () => {
  system = await startSystem({ label: 'badinput' });
  ({ slotId, id: doctorId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 }));
  const booked = await api('POST', '/api/tokens/book', { slotId, source: 'ONLINE', patient: { name: 'Existing' } });
  expect(booked.status).toBe(201);
});
afterAll(async () => {
  await system?.close();
});

const valid = () => ({ slotId, source: 'ONLINE', patient: { name: 'Valid Name', phone: '+1 555 0199' } });

describe('booking validation', () => {
  const cases: [string, () => unknown, string][] = [
    ['missing slotId', () => ({ ...valid(), slotId: undefined }), 'slotId'],
    ['slotId of the wrong type', () => ({ ...valid(), slotId: 42 }), 'slotId'],
    ['unknown source', () => ({ ...valid(), source: 'VIP' }), 'source'],
    ['lower-case source', () => ({ ...valid(), source: 'online' }), 'source'],
    ['missing patient', () => ({ ...valid(), patient: undefined }), 'patient'],
    ['empty patient name', () => ({ ...valid(), patient: { name: '   ' } }), 'patient.name'],
    ['patient name too long', () => ({ ...valid(), patient: { name: 'x'.repeat(500) } }), 'patient.name'],
    ['phone with letters', () => ({ ...valid(), patient: { name: 'A', phone: 'call me' } }), 'patient.phone'],
    ['unknown top-level field', () => ({ ...valid(), priority: 1 }), 'priority'],
    ['unknown patient field', () => ({ ...valid(), patient: { name: 'A', age: 3 } }), 'patient.age'],
    ['bad onFull', () => ({ ...valid(), onFull: 'queue' }), 'onFull'],
    ['SQL-looking slot id', () => ({ ...valid(), slotId: "x'; DROP TABLE tokens;--" }), 'slotId'],
    ['array body', () => [valid()], 'body'],
    ['null body', () => null, 'body'],
  ];

  it.each(cases)('%s -> 400 VALIDATION_ERROR naming the field, nothing changes', async (_name, body, field) => {
    const before = await slotSnapshot();
    const answer = await api('POST', '/api/tokens/book', body());
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await slotSnapshot()).toEqual(before);
  });

  it('malformed JSON -> 400 naming the body', async () => {
    const answer = await api('POST', '/api/tokens/book', '{"slotId": ', {});
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'body' }] } });
  });

  it('a body over 64 KiB -> 413', async () => {
    const before = await slotSnapshot();
    const answer = await api('POST', '/api/tokens/book', { ...valid(), patient: { name: 'x'.repeat(70 * 1024) } });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await slotSnapshot()).toEqual(before);
  });

  it('a non-JSON content type -> 415 in the error shape', async () => {
    const response = await fetch(`${system.edgeUrl}/api/tokens/book`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a bad Idempotency-Key header -> 400 naming the header', async () => {
    const answer = await api('POST', '/api/tokens/book', valid(), { 'Idempotency-Key': 'x'.repeat(300) });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields[0].field).toBe('headers');
  });
});

describe('setup and path validation', () => {
  it('rejects a slot whose end is not after its start, naming end', async () => {
    const start = new Date().toISOString();
    const answer = await api('POST', '/api/slots', { doctorId, start, end: start, capacity: 2 });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(['end']);
  });

  it.each([
    ['capacity 0', { capacity: 0 }, 'capacity'],
    ['fractional capacity', { capacity: 1.5 }, 'capacity'],
    ['time without offset', { start: '2026-01-01T09:00:00' }, 'start'],
    ['not a date', { end: 'tomorrow' }, 'end'],
  ])('slot with %s -> 400 naming %s', async (_name, patch, field) => {
    const base = { doctorId, start: new Date(Date.now() + 3600_000).toISOString(), end: new Date(Date.now() + 7200_000).toISOString(), capacity: 2 };
    const answer = await api('POST', '/api/slots', { ...base, ...patch });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('a slot for an unknown doctor -> 404', async () => {
    const answer = await api('POST', '/api/slots', {
      doctorId: 'nobody',
      start: new Date(Date.now() + 3600_000).toISOString(),
      end: new Date(Date.now() + 7200_000).toISOString(),
      capacity: 2,
    });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });

  it('a doctor without a name -> 400 naming name', async () => {
    const answer = await api('POST', '/api/doctors', { branchId: 'b' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(['name']);
  });

  it('ids with forbidden characters in paths -> 400; unknown routes -> 404 in the error shape', async () => {
    const bad = await api('GET', `/api/tokens/view/${encodeURIComponent('a b<script>')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('params.slotId');
    const cancel = await api('PATCH', `/api/tokens/${encodeURIComponent("1' OR '1'='1")}/cancel`);
    expect(cancel.status).toBe(400);
    const unknown = await api('GET', '/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('an unknown field in a cancel body -> 400 and the token stays as it was', async () => {
    const booked = await api('POST', '/api/tokens/book', { slotId, source: 'WALK_IN', patient: { name: 'Stays' } });
    const answer = await api('PATCH', `/api/tokens/${booked.body.token.id}/cancel`, { reason: 'x', force: true });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields[0].field).toBe('force');
    const token = await eventually(() => api('GET', `/api/tokens/${booked.body.token.id}`), (r) => r.status === 200);
    expect(token.body.token.status).toBe('CHECKED_IN');
  });
});
