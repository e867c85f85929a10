import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app';

/** An upstream that holds every request until the test lets it answer. */
async function startHeldUpstream() {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/readyz') return res.end('{}');
    held.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    releaseAll() {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('edge in-flight limits', () => {
  let upstream: Awaited<ReturnType<typeof startHeldUpstream>>;
  let edge: FastifyInstance;
  let edgeUrl: string;

  beforeEach(async () => {
    upstream = await startHeldUpstream();
    edge = await buildApp(
      { bookingUrl: upstream.url, queryUrl: upstream.url, allocatorUrl: upstream.url, corsOrigins: [], maxInFlight: { writes: 2, reads: 3 } },
      { logger: pino({ level: 'silent' }) },
    );
    edgeUrl = await edge.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    upstream.releaseAll();
    await edge.close();
    await upstream.close();
  });

  const post = () =>
    fetch(`${edgeUrl}/api/tokens/book`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

  it('answers 503 UNAVAILABLE with Retry-After past the write limit, without forwarding, and recovers', async () => {
    const admitted = [post(), post()];
    await waitFor(() => upstream.held.length === 2);

    const shed = await post();
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    const body = (await shed.json()) as { error: { code: string; details: unknown } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.error.details).toEqual({ limit: 'writes' });
    expect(upstream.held).toHaveLength(2);

    // Reads have their own limit: a busy write path does not stop the displays.
    const read = fetch(`${edgeUrl}/api/tokens/view/s1`);
    await waitFor(() => upstream.held.length === 3);

    upstream.releaseAll();
    expect((await Promise.all([...admitted, read])).map((r) => r.status)).toEqual([200, 200, 200]);
    const again = post();
    await waitFor(() => upstream.held.length === 1);
    upstream.releaseAll();
    expect((await again).status).toBe(200);
  });

  it('limits reads separately and does not count display streams', async () => {
    const reads = [1, 2, 3].map((i) => fetch(`${edgeUrl}/api/tokens/view/s${i}`));
    await waitFor(() => upstream.held.length === 3);
    const shed = await fetch(`${edgeUrl}/api/tokens/view/s4`);
    expect(shed.status).toBe(503);
    expect(((await shed.json()) as { error: { details: unknown } }).error.details).toEqual({ limit: 'reads' });

    // A stream is forwarded even with every read slot taken.
    const controller = new AbortController();
    const stream = fetch(`${edgeUrl}/api/slots/s1/stream`, { signal: controller.signal }).catch(() => null);
    await waitFor(() => upstream.held.length === 4);
    upstream.releaseAll();
    expect((await Promise.all(reads)).map((r) => r.status)).toEqual([200, 200, 200]);
    controller.abort();
    await stream;
  });
});
