/**
 * Live updates for Server-Sent Events clients. Every query instance holds ONE subscriber Redis
 * connection on `${prefix}slot-changes` (the view store's Lua script publishes each view it writes
 * as newer) and hands each change to the SSE clients connected to this instance, in memory:
 * slotId -> clients of the slot stream, branchId -> clients of the branch stream.
 *
 * A client is only ever sent a version of a slot newer than the last one it got, so the initial
 * view, a re-read after a Redis reconnect and a published change can race without duplicates or
 * going back in time.
 */
import type { ServerResponse } from 'node:http';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { publicViewBody } from './public-view';

export interface ViewChange {
  slotId: string;
  branchId: string;
  doctorId: string;
  version: number;
  /** The body of GET /api/tokens/view/{slotId}. */
  body: string;
}

export interface StreamClient {
  res: ServerResponse;
  kind: 'slot' | 'branch';
  /** Patient details removed from every token (public boards, patient pages). */
  publicOnly: boolean;
  /** Branch clients: only this doctor's slots. */
  doctorId?: string;
  /** Newest version sent, per slot. */
  sent: Map<string, number>;
}

export interface LiveHub {
  start(): Promise<void>;
  /** Ends every stream; call before the HTTP server closes (it waits for open responses). */
  endStreams(): void;
  stop(): Promise<void>;
  addSlotClient(slotId: string, client: StreamClient): void;
  addBranchClient(branchId: string, client: StreamClient): void;
  /** Sends the change to one client if it is newer than what the client has. */
  deliver(client: StreamClient, change: ViewChange): void;
  /** Sends the change to every interested client of this instance. */
  dispatch(change: ViewChange): void;
  counts(): { slotClients: number; branchClients: number };
}

export interface LiveHubOptions {
  redis: Redis;
  channel: string;
  logger: Logger;
  keepAliveMs?: number;
  /** Re-reads the current views after the subscriber reconnected (changes may have been missed). */
  resync?: (slotIds: string[], branchIds: string[]) => Promise<ViewChange[]>;
}

/** A client whose socket does not drain is dropped rather than buffered without limit. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function parseViewChange(body: string): ViewChange | null {
  try {
    const view = JSON.parse(body) as { slot?: { id?: unknown; branchId?: unknown; doctorId?: unknown }; version?: unknown };
    const slot = view.slot;
    if (!slot || typeof slot.id !== 'string' || typeof view.version !== 'number') return null;
    return {
      slotId: slot.id,
      branchId: typeof slot.branchId === 'string' ? slot.branchId : '',
      doctorId: typeof slot.doctorId === 'string' ? slot.doctorId : '',
      version: view.version,
      body,
    };
  } catch {
    return null;
  }
}

/** `event: view`, `id: <version>`, `data: <view JSON>`; branch events carry `slotId` first in the data. */
export function formatViewEvent(change: ViewChange, kind: StreamClient['kind'], body: string): string {
  const data = kind === 'branch' ? `{"slotId":${JSON.stringify(change.slotId)},${body.slice(1)}` : body;
  return `event: view\nid: ${change.version}\ndata: ${data}\n\n`;
}

export function createLiveHub(options: LiveHubOptions): LiveHub {
  const { redis, channel, logger } = options;
  const bySlot = new Map<string, Set<StreamClient>>();
  const byBranch = new Map<string, Set<StreamClient>>();
  let subscriber: Redis | null = null;
  let keepAlive: NodeJS.Timeout | null = null;
  let connectedOnce = false;
  // Redacting parses and re-serialises; do it once per change, not once per client.
  const publicBodies = new WeakMap<ViewChange, string>();

  function publicBody(change: ViewChange): string {
    let body = publicBodies.get(change);
    if (body === undefined) {
      body = publicViewBody(change.body);
      publicBodies.set(change, body);
    }
    return body;
  }

  function add(index: Map<string, Set<StreamClient>>, key: string, client: StreamClient): void {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(client);
    client.res.once('close', () => {
      set.delete(client);
      if (set.size === 0 && index.get(key) === set) index.delete(key);
    });
  }

  function write(client: StreamClient, chunk: string): void {
    const { res } = client;
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      logger.warn('slow SSE client dropped');
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  function deliver(client: StreamClient, change: ViewChange): void {
    if (client.doctorId && client.doctorId !== change.doctorId) return;
    const last = client.sent.get(change.slotId);
    if (last !== undefined && last >= change.version) return;
    client.sent.set(change.slotId, change.version);
    write(client, formatViewEvent(change, client.kind, client.publicOnly ? publicBody(change) : change.body));
  }

  function dispatch(change: ViewChange): void {
    for (const client of bySlot.get(change.slotId) ?? []) deliver(client, change);
    if (change.branchId) for (const client of byBranch.get(change.branchId) ?? []) deliver(client, change);
  }

  async function resync(): Promise<void> {
    if (!options.resync || (bySlot.size === 0 && byBranch.size === 0)) return;
    try {
      for (const change of await options.resync([...bySlot.keys()], [...byBranch.keys()])) dispatch(change);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'live resync failed');
    }
  }

  function allClients(): StreamClient[] {
    const all: StreamClient[] = [];
    for (const set of bySlot.values()) all.push(...set);
    for (const set of byBranch.values()) all.push(...set);
    return all;
  }

  return {
    async start() {
      const sub = redis.duplicate();
      subscriber = sub;
      sub.on('error', (err: Error) => logger.warn({ err: err.message }, 'live subscriber error'));
      sub.on('message', (_channel: string, message: string) => {
        // Every view change of every slot arrives here; with no screen open there is nothing to parse.
        if (bySlot.size === 0 && byBranch.size === 0) return;
        const change = parseViewChange(message);
        if (change) dispatch(change);
        else logger.warn('unparseable slot change ignored');
      });
      sub.on('ready', () => {
        // ioredis re-subscribes by itself; what was published meanwhile is re-read.
        if (connectedOnce) void resync();
        connectedOnce = true;
      });
      await sub.subscribe(channel);
      connectedOnce = true;
      keepAlive = setInterval(() => {
        for (const client of allClients()) write(client, ': keep-alive\n\n');
      }, options.keepAliveMs ?? 15_000);
      keepAlive.unref();
    },
    endStreams() {
      for (const client of allClients()) if (!client.res.writableEnded) client.res.end();
      bySlot.clear();
      byBranch.clear();
    },
    async stop() {
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
      this.endStreams();
      const sub = subscriber;
      subscriber = null;
      if (sub) await sub.quit().catch(() => sub.disconnect());
    },
    addSlotClient: (slotId, client) => add(bySlot, slotId, client),
    addBranchClient: (branchId, client) => add(byBranch, branchId, client),
    deliver,
    dispatch,
    counts() {
      let slotClients = 0;
      let branchClients = 0;
      for (const set of bySlot.values()) slotClients += set.size;
      for (const set of byBranch.values()) branchClients += set.size;
      return { slotClients, branchClients };
    },
  };
}
