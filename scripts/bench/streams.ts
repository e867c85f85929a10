/**
 * Server-Sent-Event clients (node:http) for the stream measurements: each tracks the highest
 * `id:` (the view's version) it has received and when.
 */
import http from 'node:http';

export interface StreamClient {
  /** Highest version received so far (-1 before the first event). */
  version: number;
  /** performance.now() of each version's arrival. */
  arrivals: Map<number, number>;
  waiters: { version: number; resolve: (at: number) => void }[];
  close(): void;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/** Opens `GET path` as an event stream; resolves once the first event (the current view) arrived. */
export function openStream(baseUrl: string, path: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    let settled = false;
    const client: StreamClient = {
      version: -1,
      arrivals: new Map(),
      waiters: [],
      close: () => request.destroy(),
    };
    const timer = setTimeout(() => fail(new Error(`stream ${path}: no first event within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(err);
    };
    const request = http.get(url, { agent, headers: { ...headers, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(new Error(`stream ${path}: HTTP ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(event);
          if (!id) continue;
          const version = Number(id[1]);
          if (version <= client.version) continue;
          client.version = version;
          client.arrivals.set(version, now);
          client.waiters = client.waiters.filter((w) => {
            if (version < w.version) return true;
            w.resolve(now);
            return false;
          });
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            resolve(client);
          }
        }
      });
      response.on('error', () => undefined);
    });
    request.on('error', (err) => fail(err));
  });
}

/** Resolves with the arrival time of the first event with version >= `version` (null after timeoutMs). */
export function waitForVersion(client: StreamClient, version: number, timeoutMs: number): Promise<number | null> {
  if (client.version >= version) return Promise.resolve(client.arrivals.get(client.version) ?? performance.now());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    client.waiters.push({
      version,
      resolve: (at) => {
        clearTimeout(timer);
        resolve(at);
      },
    });
  });
}
