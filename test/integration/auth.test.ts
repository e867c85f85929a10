/** API keys, roles and branches over HTTP through the edge, with AUTH on. */
import { createApiKey, revokeApiKey, type Role } from '@opd/shared';
import { call, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
const keys: Record<string, string> = {};
let slotA: string;
let slotA2: string;
let slotB: string;
let doctorA: string;

const as = (who: string): Record<string, string> => (keys[who] ? { authorization: `Bearer ${keys[who]}` } : {});
const api = (who: string, method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body, as(who));
let patientSeq = 0;
const patient = () => ({ name: `Patient ${(patientSeq += 1)}`, phone: `+1 555 ${String(patientSeq).padStart(4, '0')}` });
const book = (who: string, slotId: string, source: string) => api(who, 'POST', '/api/tokens/book', { slotId, source, patient: patient() });
const deskToken = async (slotId = slotA, source = 'ONLINE') => {
  const answer = await book('desk', slotId, source);
  expect(answer.status).toBe(201);
  return answer.body.token.id as string;
};

beforeAll(async () => {
  system = await startSystem({ label: 'auth', auth: 'on', rateLimitPerSecond: 0, authCacheMs: 100 });
  const make = async (name: string, role: Role, branchId: string | null, doctorId?: string) => {
    keys[name] = (await createApiKey(system.pool, { role, branchId, doctorId, label: `test ${name}` })).key;
  };
  await make('admin', 'admin', null);
  const createDoctor = async (branchId: string, name: string) => (await api('admin', 'POST', '/api/doctors', { branchId, name })).body.doctor.id;
  const createSlot = async (doctorId: string) => {
    const start = Date.now();
    const answer = await api('admin', 'POST', '/api/slots', {
      doctorId,
      start: new Date(start).toISOString(),
      end: new Date(start + 3600_000).toISOString(),
      capacity: 100,
    });
    return answer.body.slot.id as string;
  };
  doctorA = await createDoctor('branch-a', 'Dr. Alpha');
  const otherDoctorA = await createDoctor('branch-a', 'Dr. Another');
  const doctorB = await createDoctor('branch-b', 'Dr. Beta');
  slotA = await createSlot(doctorA);
  slotA2 = await createSlot(otherDoctorA);
  slotB = await createSlot(doctorB);
  for (const role of ['kiosk', 'portal', 'desk', 'display', 'er'] as Role[]) await make(role, role, 'branch-a');
  await make('portal2', 'portal', 'branch-a');
  await make('doctor', 'doctor', 'branch-a', doctorA);
  await make('deskB', 'desk', 'branch-b');
  await make('adminA', 'admin', 'branch-a');
});
afterAll(async () => {
  await system?.close();
});

describe('authentication', () => {
  it('no key, a malformed key and an unknown key get 401 in the error shape', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer opd_000000000000_notarealkeynotarealkey' },
    ];
    for (const headers of attempts) {
      const answer = await call(system.edgeUrl, 'GET', `/api/tokens/view/${slotA}`, undefined, headers);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHORIZED');
    }
    expect((await call(system.edgeUrl, 'POST', '/api/tokens/book', { slotId: slotA, source: 'ONLINE', patient: patient() })).status).toBe(401);
  });

  it('a revoked key stops working (within the verification cache time)', async () => {
    const { identity, key } = await createApiKey(system.pool, { role: 'desk', branchId: 'branch-a' });
    const headers = { authorization: `Bearer ${key}` };
    expect((await call(system.edgeUrl, 'GET', `/api/tokens/view/${slotA}`, undefined, headers)).status).toBe(200);
    await revokeApiKey(system.pool, identity.keyId);
    const after = await eventually(() => call(system.edgeUrl, 'GET', `/api/tokens/view/${slotA}`, undefined, headers), (r) => r.status === 401, 3000);
    expect(after.status).toBe(401);
  });

  it('health endpoints need no key', async () => {
    expect((await call(system.edgeUrl, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('who may book which source', () => {
  const matrix: [string, string, number][] = [
    ['kiosk', 'WALK_IN', 201],
    ['kiosk', 'ONLINE', 403],
    ['kiosk', 'EMERGENCY', 403],
    ['portal', 'ONLINE', 201],
    ['portal', 'FOLLOW_UP', 201],
    ['portal', 'WALK_IN', 403],
    ['portal', 'PAID_PRIORITY', 403],
    ['portal', 'EMERGENCY', 403],
    ['desk', 'PAID_PRIORITY', 201],
    ['desk', 'EMERGENCY', 201],
    ['er', 'EMERGENCY', 201],
    ['er', 'ONLINE', 403],
    ['doctor', 'ONLINE', 403],
    ['display', 'WALK_IN', 403],
    ['admin', 'FOLLOW_UP', 201],
  ];
  it.each(matrix)('%s booking %s -> %i', async (who, source, status) => {
    const answer = await book(who, slotA, source);
    expect(answer.status).toBe(status);
    if (status === 403) expect(answer.body.error.code).toBe('FORBIDDEN');
  });
});

describe('who may move tokens', () => {
  it('cancel: desk any token, portal only its own, kiosk and display never', async () => {
    const deskOwned = await deskToken();
    expect((await api('kiosk', 'PATCH', `/api/tokens/${deskOwned}/cancel`)).status).toBe(403);
    expect((await api('display', 'PATCH', `/api/tokens/${deskOwned}/cancel`)).status).toBe(403);
    expect((await api('portal', 'PATCH', `/api/tokens/${deskOwned}/cancel`)).status).toBe(403);
    const portalOwned = (await book('portal', slotA, 'ONLINE')).body.token.id;
    expect((await api('portal2', 'PATCH', `/api/tokens/${portalOwned}/cancel`)).status).toBe(403);
    expect((await api('portal', 'PATCH', `/api/tokens/${portalOwned}/cancel`)).status).toBe(200);
    expect((await api('desk', 'PATCH', `/api/tokens/${deskOwned}/cancel`)).status).toBe(200);
  });

  it('check-in and no-show are the desk\'s; call-next and complete the doctor\'s, for that doctor\'s slots only', async () => {
    const token = await deskToken();
    expect((await api('doctor', 'PATCH', `/api/tokens/${token}/check-in`)).status).toBe(403);
    expect((await api('kiosk', 'PATCH', `/api/tokens/${token}/check-in`)).status).toBe(403);
    expect((await api('desk', 'PATCH', `/api/tokens/${token}/check-in`)).status).toBe(200);
    expect((await api('desk', 'POST', `/api/slots/${slotA}/call-next`)).status).toBe(403);
    expect((await api('doctor', 'POST', `/api/slots/${slotA2}/call-next`)).status).toBe(403);
    const called = await api('doctor', 'POST', `/api/slots/${slotA}/call-next`);
    expect(called.status).toBe(200);
    expect((await api('desk', 'PATCH', `/api/tokens/${called.body.token.id}/complete`)).status).toBe(403);
    expect((await api('doctor', 'PATCH', `/api/tokens/${called.body.token.id}/complete`)).status).toBe(200);
    const another = await deskToken();
    expect((await api('kiosk', 'PATCH', `/api/tokens/${another}/no-show`)).status).toBe(403);
    expect((await api('desk', 'PATCH', `/api/tokens/${another}/no-show`)).status).toBe(200);
  });

  it('setup and slot administration are the admin\'s, within its branch', async () => {
    expect((await api('desk', 'POST', '/api/doctors', { branchId: 'branch-a', name: 'Dr. Nope' })).status).toBe(403);
    expect((await api('adminA', 'POST', '/api/doctors', { branchId: 'branch-b', name: 'Dr. Elsewhere' })).status).toBe(403);
    expect((await api('adminA', 'POST', '/api/doctors', { branchId: 'branch-a', name: 'Dr. Here' })).status).toBe(201);
    expect((await api('desk', 'PATCH', `/api/slots/${slotA}/delay`, { minutes: 5 })).status).toBe(403);
    expect((await api('adminA', 'PATCH', `/api/slots/${slotB}/delay`, { minutes: 5 })).status).toBe(404);
    expect((await api('adminA', 'PATCH', `/api/slots/${slotA}/delay`, { minutes: 5 })).status).toBe(200);
  });
});

describe('branch isolation', () => {
  it('a key of branch B finds nothing of branch A: every slot and token answers 404', async () => {
    const token = await deskToken();
    await eventually(() => api('desk', 'GET', `/api/tokens/${token}`), (r) => r.status === 200);
    const attempts = [
      api('deskB', 'GET', `/api/tokens/view/${slotA}`),
      api('deskB', 'GET', `/api/slots/${slotA}`),
      api('deskB', 'GET', `/api/tokens/${token}`),
      api('deskB', 'POST', '/api/tokens/book', { slotId: slotA, source: 'ONLINE', patient: patient() }),
      api('deskB', 'PATCH', `/api/tokens/${token}/cancel`),
      api('deskB', 'PATCH', `/api/tokens/${token}/check-in`),
      api('deskB', 'GET', '/api/branches/branch-a/slots'),
    ];
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
    expect((await api('deskB', 'GET', `/api/tokens/view/${slotB}`)).status).toBe(200);
    const list = await api('deskB', 'GET', `/api/slots?doctorId=${doctorA}`);
    expect(list.body.slots).toEqual([]);
  });
});

describe('reads by role', () => {
  it('every role reads views; displays see masked names, no phone', async () => {
    const answer = await api('desk', 'POST', '/api/tokens/book', { slotId: slotA, source: 'ONLINE', patient: { name: 'Asha Rao', phone: '+1 555 9999' } });
    const view = await eventually(() => api('display', 'GET', `/api/tokens/view/${slotA}`), (r) => r.body?.queue?.some((t: any) => t.id === answer.body.token.id));
    const shown = view.body.queue.find((t: any) => t.id === answer.body.token.id);
    expect(shown.patient).toEqual({ name: 'A*** R**' });
    for (const who of ['kiosk', 'portal', 'desk', 'doctor', 'er', 'admin']) {
      const read = await api(who, 'GET', `/api/tokens/view/${slotA}`);
      expect(read.status).toBe(200);
      expect(read.body.queue.find((t: any) => t.id === answer.body.token.id).patient.name).toBe('Asha Rao');
    }
    const token = await api('display', 'GET', `/api/tokens/${answer.body.token.id}`);
    expect(token.body.token.patient).toEqual({ name: 'A*** R**' });
  });

  it('public boards read without a key, with no patient details at all', async () => {
    const board = await call(system.edgeUrl, 'GET', '/api/branches/branch-a/slots?public=1');
    expect(board.status).toBe(200);
    expect(JSON.stringify(board.body)).not.toContain('"patient"');
    const page = await fetch(`${system.edgeUrl}/display/branch-a`);
    expect(page.status).toBe(200);
  });
});

describe('audit log', () => {
  it('records every command with key, role, branch and result; only admins read it', async () => {
    const token = await deskToken();
    await api('kiosk', 'PATCH', `/api/tokens/${token}/cancel`);
    const entries = await eventually(
      () => api('admin', 'GET', `/api/audit?slotId=${slotA}`),
      (r) => r.status === 200 && r.body.entries.some((e: any) => e.tokenId === token && e.status === 403),
    );
    const forbidden = entries.body.entries.find((e: any) => e.tokenId === token && e.status === 403);
    expect(forbidden).toMatchObject({ role: 'kiosk', branchId: 'branch-a', method: 'PATCH', errorCode: 'FORBIDDEN' });
    const booked = entries.body.entries.find((e: any) => e.tokenId === token && e.status === 201);
    expect(booked).toMatchObject({ role: 'desk', route: '/api/tokens/book' });
    expect((await api('desk', 'GET', `/api/audit?slotId=${slotA}`)).status).toBe(403);
  });
});

describe('rate limits, CORS and headers', () => {
  it('a key over its limit gets 429 with Retry-After', async () => {
    const limited = await startSystem({ label: 'ratelimit', auth: 'on', rateLimitPerSecond: 5 });
    try {
      const { key } = await createApiKey(limited.pool, { role: 'display', branchId: 'branch-a' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => call(limited.edgeUrl, 'GET', '/api/tokens/view/nothing', undefined, { authorization: `Bearer ${key}` })),
      );
      const throttled = answers.filter((a) => a.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
      expect(throttled[0].body.error.code).toBe('RATE_LIMITED');
      expect(throttled[0].headers.get('retry-after')).toBe('1');
    } finally {
      await limited.close();
    }
  });

  it('answers CORS preflights for the portal origin only, and sends security headers', async () => {
    const preflight = (origin: string) =>
      fetch(`${system.edgeUrl}/api/tokens/book`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
    const allowed = await preflight('https://portal.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://portal.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const read = await fetch(`${system.edgeUrl}/api/tokens/view/${slotA}`, { headers: as('desk') });
    expect(read.headers.get('x-content-type-options')).toBe('nosniff');
    expect(read.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
