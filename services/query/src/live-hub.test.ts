/** The SSE fan-out in memory: newer versions only, branch and doctor filters, redaction, keep-alive, cleanup. */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type Redis from 'ioredis';
import pino from 'pino';
import { createLiveHub, formatViewEvent, parseViewChange, type StreamClient } from './live-hub';

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

function fakeRedis() {
  const subscriber = Object.assign(new EventEmitter(), {
    channels: [] as string[],
    subscribe: async (channel: string) => void subscriber.channels.push(channel),
    quit: async () => 'OK',
    disconnect: () => undefined,
  });
  const redis = { duplicate: () => subscriber } as unknown as Redis;
  return { redis, subscriber };
}

const viewBody = (slotId: string, version: number, branchId = 'b1', doctorId = 'd1') =>
  JSON.stringify({
    slot: { id: slotId, doctorId, branchId },
    nowServing: [],
    queue: [{ id: `t${version}`, number: version, patient: { name: 'Secret Name' } }],
    waitlist: [],
    version,
  });

function client(kind: StreamClient['kind'], extra: Partial<StreamClient> = {}) {
  const res = new FakeResponse();
  return { res, client: { res: res as unknown as ServerResponse, kind, publicOnly: false, sent: new Map(), ...extra } as StreamClient };
}

describe('live hub', () => {
  it('sends each slot client only newer versions, and branch clients their branch (and doctor) only', async () => {
    const { redis, subscriber } = fakeRedis();
    const hub = createLiveHub({ redis, channel: 'p:slot-changes', logger: pino({ level: 'silent' }) });
    await hub.start();
    expect(subscriber.channels).toEqual(['p:slot-changes']);

    const slot = client('slot');
    const branch = client('branch');
    const doctorOnly = client('branch', { doctorId: 'd2' });
    const other = client('branch');
    hub.addSlotClient('s1', slot.client);
    hub.addBranchClient('b1', branch.client);
    hub.addBranchClient('b1', doctorOnly.client);
    hub.addBranchClient('b2', other.client);

    subscriber.emit('message', 'p:slot-changes', viewBody('s1', 3));
    subscriber.emit('message', 'p:slot-changes', viewBody('s1', 2)); // late: dropped
    subscriber.emit('message', 'p:slot-changes', viewBody('s1', 3)); // replay: dropped
    subscriber.emit('message', 'p:slot-changes', 'not json');
    expect(slot.res.chunks).toEqual([`event: view\nid: 3\ndata: ${viewBody('s1', 3)}\n\n`]);
    expect(branch.res.chunks).toHaveLength(1);
    expect(JSON.parse(branch.res.chunks[0].split('data: ')[1])).toMatchObject({ slotId: 's1', version: 3 });
    expect(doctorOnly.res.chunks).toEqual([]);
    expect(other.res.chunks).toEqual([]);

    subscriber.emit('message', 'p:slot-changes', viewBody('s9', 1, 'b1', 'd2'));
    expect(doctorOnly.res.chunks).toHaveLength(1);
    expect(hub.counts()).toEqual({ slotClients: 1, branchClients: 3 });

    slot.res.emit('close'); // the browser went away
    expect(hub.counts()).toEqual({ slotClients: 0, branchClients: 3 });
    await hub.stop();
    expect(branch.res.writableEnded).toBe(true);
    expect(hub.counts()).toEqual({ slotClients: 0, branchClients: 0 });
  });

  it('redacts patients for public clients and writes keep-alive comments', async () => {
    const { redis, subscriber } = fakeRedis();
    const hub = createLiveHub({ redis, channel: 'c', logger: pino({ level: 'silent' }), keepAliveMs: 20 });
    await hub.start();
    const pub = client('slot', { publicOnly: true });
    hub.addSlotClient('s1', pub.client);
    subscriber.emit('message', 'c', viewBody('s1', 1));
    expect(pub.res.chunks[0]).not.toContain('Secret Name');
    expect(pub.res.chunks[0]).toContain('"number":1');
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(pub.res.chunks.filter((c) => c === ': keep-alive\n\n').length).toBeGreaterThanOrEqual(2);
    await hub.stop();
  });

  it('drops a client that does not read', async () => {
    const { redis, subscriber } = fakeRedis();
    const hub = createLiveHub({ redis, channel: 'c', logger: pino({ level: 'silent' }) });
    await hub.start();
    const slow = client('slot');
    slow.res.writableLength = 2 * 1024 * 1024;
    hub.addSlotClient('s1', slow.client);
    subscriber.emit('message', 'c', viewBody('s1', 1));
    expect(slow.res.destroyed).toBe(true);
    expect(hub.counts().slotClients).toBe(0);
    await hub.stop();
  });

  it('formats branch events with slotId first and parses changes', () => {
    const change = parseViewChange(viewBody('s1', 7))!;
    expect(change).toMatchObject({ slotId: 's1', branchId: 'b1', doctorId: 'd1', version: 7 });
    const event = formatViewEvent(change, 'branch', change.body);
    expect(event.startsWith('event: view\nid: 7\ndata: {"slotId":"s1","slot":')).toBe(true);
    expect(parseViewChange('{"slot":{}}')).toBeNull();
  });
});
