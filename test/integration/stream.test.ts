/**
 * Live updates over Server-Sent Events, through the edge, against the real Kafka, PostgreSQL and
 * Redis: slot stream, reconnect with Last-Event-ID, branch stream, the branch's slots of the day,
 * and the public pages served behind the edge.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { loadSlotStates } from '@opd/shared';
import { createViewStore } from '../../services/query/src/view-store';
import { call, createDoctorWithSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

interface SseStream {
  status: number;
  headers: Headers;
  /** Non-SSE answers (errors) are read whole. */
  body?: any;
  /** The next event (in order) that satisfies `accept`; earlier ones are consumed. */
  next(accept?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

const open: SseStream[] = [];

/**
 * Reads a stream with node:http on a connection of its own (no pooling): closing it ends that
 * connection, and no spare keep-alive connection is left behind to delay the servers' shutdown.
 */
async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, resolve).on('error', reject);
  });
  const status = response.statusCode ?? 0;
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
  if (!(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    let text = '';
    for await (const chunk of response) text += chunk;
    return { status, headers: responseHeaders, body: text ? JSON.parse(text) : undefined, next: () => Promise.reject(new Error('not a stream')), close: () => undefined };
  }
  const events: SseEvent[] = [];
  const wake: { waiter: (() => void) | null } = { waiter: null };
  let buffer = '';
  let ended = false;
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') event.event = value;
        else if (name === 'id') event.id = value;
        else if (name === 'data') data.push(value);
        else continue;
        fields += 1;
      }
      if (fields === 0) continue;
      event.data = data.join('\n');
      events.push(event);
      wake.waiter?.();
    }
  });
  const finish = () => {
    ended = true;
    wake.waiter?.();
  };
  response.on('end', finish);
  response.on('close', finish);
  response.on('error', finish);
  const stream: SseStream = {
    status,
    headers: responseHeaders,
    async next(accept = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = events.findIndex(accept);
        if (index >= 0) return events.splice(0, index + 1)[index];
        events.length = 0;
        if (ended) throw new Error('stream ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no matching event in time');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake.waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake.waiter = null;
      }
    },
    close: () => response.destroy(),
  };
  open.push(stream);
  return stream;
}

let system: TestSystem;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(system.edgeUrl, method, path, body, headers);
const book = (slotId: string, name: string, source = 'WALK_IN') =>
  api('POST', '/api/tokens/book', { slotId, source, patient: { name, phone: `+1 555 ${Math.floor(Math.random() * 1e7)}` } });
const view = (event: SseEvent) => JSON.parse(event.data);
const ids = (tokens: { id: string }[]) => tokens.map((t) => t.id);

beforeAll(async () => {
  system = await startSystem({ label: 'stream' });
});
afterAll(async () => {
  // One stream stays open on purpose: closing the system must end it, not wait for it.
  const started = Date.now();
  await system?.close();
  expect(Date.now() - started).toBeLessThan(8000);
  for (const stream of open) stream.close();
});

describe('slot stream', () => {
  it('sends the current view on connect, then every newer view; a reconnect with Last-Event-ID gets the current view', async () => {
    const branchId = `br-${randomUUID().slice(0, 8)}`;
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5, branchId, name: 'Dr. Stream' });
    const stream = await openSse(`${system.edgeUrl}/api/slots/${slotId}/stream`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('cache-control')).toContain('no-cache');

    const first = await stream.next();
    expect(first.event).toBe('view');
    const initial = view(first);
    expect(first.id).toBe(String(initial.version));
    expect(initial.slot).toMatchObject({ id: slotId, branchId });
    expect(initial.queue).toEqual([]);

    const booked = await book(slotId, 'Asha Rao');
    expect(booked.status).toBe(201);
    const token = booked.body.token;
    const changed = await stream.next((e) => ids(view(e).queue).includes(token.id));
    const after = view(changed);
    expect(after.version).toBeGreaterThan(initial.version);
    expect(changed.id).toBe(String(after.version));
    // The same body as GET /api/tokens/view/{slotId}.
    const polled = await eventually(() => api('GET', `/api/tokens/view/${slotId}`), (r) => r.body.version >= after.version);
    expect(polled.body.version === after.version ? after : polled.body).toEqual(polled.body);
    expect(Object.keys(after).sort()).toEqual(Object.keys(polled.body).sort());
    expect(after.queue[0]).toMatchObject({ id: token.id, number: token.number, patient: { name: 'Asha Rao' } });

    // Call the token: the stream shows it in nowServing.
    const called = await api('POST', `/api/slots/${slotId}/call-next`);
    expect(called.status).toBe(200);
    const servingEvent = await stream.next((e) => ids(view(e).nowServing).includes(token.id));
    expect(view(servingEvent).version).toBeGreaterThan(after.version);
    stream.close();

    const again = await openSse(`${system.edgeUrl}/api/slots/${slotId}/stream`, { 'last-event-id': String(initial.version) });
    const current = view(await again.next());
    expect(current.version).toBeGreaterThanOrEqual(view(servingEvent).version);
    expect(ids(current.nowServing)).toEqual([token.id]);
    again.close();
  });

  it('?public=1 removes patient details from every token', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    expect((await book(slotId, 'Private Person')).status).toBe(201);
    const stream = await openSse(`${system.edgeUrl}/api/slots/${slotId}/stream?public=1`);
    const event = await stream.next((e) => view(e).queue.length === 1);
    expect(event.data).not.toContain('Private Person');
    expect(view(event).queue[0].patient).toBeUndefined();
    expect(view(event).queue[0].number).toBe(1);
    stream.close();
  });

  it('unknown slot -> 404 NOT_FOUND, bad id -> 400, unknown query field -> 400, all in the contract shape', async () => {
    const missing = await openSse(`${system.edgeUrl}/api/slots/no-such-slot/stream`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const bad = await openSse(`${system.edgeUrl}/api/slots/${encodeURIComponent('bad id!')}/stream`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const unknownField = await openSse(`${system.edgeUrl}/api/slots/${slotId}/stream?foo=1`);
    expect(unknownField.status).toBe(400);
    const branch = await openSse(`${system.edgeUrl}/api/branches/no-such-branch/stream`);
    expect(branch.status).toBe(404);
    expect(branch.body.error.code).toBe('NOT_FOUND');
  });
});

describe('branch stream and branch slots', () => {
  it('carries every slot change of the branch with its slotId, and only that branch', async () => {
    const branchId = `br-${randomUUID().slice(0, 8)}`;
    const a = await createDoctorWithSlot(system.edgeUrl, { capacity: 3, branchId, name: 'Dr. Alpha' });
    const b = await createDoctorWithSlot(system.edgeUrl, { capacity: 3, branchId, name: 'Dr. Beta' });
    const elsewhere = await createDoctorWithSlot(system.edgeUrl, { capacity: 3, branchId: `other-${branchId}` });

    const stream = await openSse(`${system.edgeUrl}/api/branches/${branchId}/stream`);
    expect(stream.status).toBe(200);
    // On connect: the current view of each of today's slots of the branch.
    const seen = new Set<string>();
    for (let i = 0; i < 2; i += 1) {
      const event = await stream.next();
      expect(event.event).toBe('view');
      const data = view(event);
      expect(event.id).toBe(String(data.version));
      expect(data.slotId).toBe(data.slot.id);
      seen.add(data.slotId);
    }
    expect([...seen].sort()).toEqual([a.slotId, b.slotId].sort());

    expect((await book(elsewhere.slotId, 'Other Branch')).status).toBe(201);
    const booked = await book(b.slotId, 'Beta Patient');
    expect(booked.status).toBe(201);
    const event = await stream.next((e) => ids(view(e).queue).includes(booked.body.token.id));
    expect(view(event).slotId).toBe(b.slotId);
    expect(view(event).slot.branchId).toBe(branchId);

    // A doctor filter: only that doctor's slots.
    const filtered = await openSse(`${system.edgeUrl}/api/branches/${branchId}/stream?doctorId=${a.id}&public=1`);
    const only = view(await filtered.next());
    expect(only.slotId).toBe(a.slotId);
    const bookedA = await book(a.slotId, 'Alpha Patient');
    const aEvent = await filtered.next((e) => ids(view(e).queue).includes(bookedA.body.token.id));
    expect(view(aEvent).slotId).toBe(a.slotId);
    expect(aEvent.data).not.toContain('Alpha Patient');
    filtered.close();

    // The stream that stays open until the system closes (see afterAll).
    void stream;
  });

  it('one subscriber connection per query app carries the fan-out', async () => {
    const [, count] = (await system.redis.call('PUBSUB', 'NUMSUB', `${system.prefix}slot-changes`)) as [string, number];
    expect(Number(count)).toBe(1);
  });

  it("GET /api/branches/{branchId}/slots lists today's slots with doctor, view and recent calls", async () => {
    const branchId = `br-${randomUUID().slice(0, 8)}`;
    const doctor = await createDoctorWithSlot(system.edgeUrl, { capacity: 4, branchId, name: 'Dr. List' });
    const first = await book(doctor.slotId, 'First Patient');
    await book(doctor.slotId, 'Second Patient');
    expect((await api('POST', `/api/slots/${doctor.slotId}/call-next`)).status).toBe(200);

    const listed = await eventually(
      () => api('GET', `/api/branches/${branchId}/slots?public=1`),
      (r) => r.status === 200 && r.body.slots[0]?.view.nowServing.length === 1,
    );
    expect(listed.body.branchId).toBe(branchId);
    expect(listed.body.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(listed.body.slots).toHaveLength(1);
    const [entry] = listed.body.slots;
    expect(entry.doctor).toEqual({ id: doctor.id, name: 'Dr. List', department: null });
    expect(entry.view.slot.id).toBe(doctor.slotId);
    expect(entry.view.nowServing[0]).toMatchObject({ id: first.body.token.id, number: 1, status: 'CALLED' });
    expect(JSON.stringify(listed.body)).not.toContain('Patient');
    expect(entry.recentCalls[0]).toMatchObject({ id: first.body.token.id, number: 1, status: 'CALLED' });

    const withNames = await api('GET', `/api/branches/${branchId}/slots`);
    expect(withNames.body.slots[0].view.queue[0].patient.name).toBe('Second Patient');
    const otherDay = await api('GET', `/api/branches/${branchId}/slots?date=2001-01-01`);
    expect(otherDay.body.slots).toEqual([]);
    expect((await api('GET', `/api/branches/${branchId}/slots?date=yesterday`)).status).toBe(400);
    expect((await api('GET', '/api/branches/nobody-here/slots')).status).toBe(404);
  });
});

describe('public pages behind the edge', () => {
  it('GET /display/{branchId} is one self-contained HTML page', async () => {
    const response = await fetch(`${system.edgeUrl}/display/branch-a?lang=hi-IN`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('"lang":"hi-IN"');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    expect((await fetch(`${system.edgeUrl}/display/branch-a?lang=${encodeURIComponent('<x>')}`)).status).toBe(400);
  });

  it('GET /t/{tokenId} shows the token without the patient name; unknown -> 404', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 2, name: 'Dr. Page' });
    const booked = await book(slotId, 'Hidden Name', 'ONLINE');
    const page = await fetch(`${system.edgeUrl}/t/${booked.body.token.id}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('Dr. Page');
    expect(html).toContain(`"number":${booked.body.token.number}`);
    expect(html).not.toContain('Hidden Name');

    const missingHtml = await fetch(`${system.edgeUrl}/t/no-such-token`, { headers: { accept: 'text/html' } });
    expect(missingHtml.status).toBe(404);
    expect(missingHtml.headers.get('content-type')).toContain('text/html');
    const missingJson = await api('GET', '/t/no-such-token');
    expect(missingJson.status).toBe(404);
    expect(missingJson.body.error.code).toBe('NOT_FOUND');
  });
});

describe('fan-out across query instances', () => {
  it("a view written by another instance's projector reaches this instance's clients through Redis pub/sub", async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    const stream = await openSse(`${system.edgeUrl}/api/slots/${slotId}/stream`);
    const initial = view(await stream.next());
    // Another query instance: its own Redis connection and view store, same key prefix.
    const otherRedis = system.redis.duplicate();
    try {
      const state = (await loadSlotStates(system.pool, [slotId])).get(slotId)!;
      const newer = { ...state, slot: { ...state.slot, version: initial.version + 100 } };
      expect(await createViewStore(otherRedis, system.prefix).save(newer)).toBe(true);
      const event = await stream.next((e) => view(e).version === initial.version + 100);
      expect(event.id).toBe(String(initial.version + 100));
    } finally {
      otherRedis.disconnect();
      stream.close();
    }
  });
});
