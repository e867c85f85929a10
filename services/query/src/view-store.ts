/**
 * The read model in Redis. Per slot: `view:{slotId}` (the body of GET /api/tokens/view, ready to
 * send), `slot:{slotId}` (body of GET /api/slots/{id}), `ver:{slotId}`; per token: `token:{id}`.
 * One Lua script writes them all only if the version is newer than the stored one, so a late or
 * replayed snapshot can never overwrite a newer view.
 */
import type Redis from 'ioredis';
import { buildSlotView, type SlotState } from '@opd/shared';

const SAVE_IF_NEWER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local incoming = tonumber(ARGV[1])
if current >= incoming then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl)
for i = 6, #ARGV, 2 do
  redis.call('SET', ARGV[5] .. ARGV[i], ARGV[i + 1], 'EX', ttl)
end
if ARGV[5] ~= '' then redis.call('PUBLISH', KEYS[4], ARGV[3]) end
return 1
`;

/** Entries outlive a clinic day; a missing entry is rebuilt from PostgreSQL. */
const TTL_SECONDS = 3 * 24 * 3600;

export interface ViewStore {
  /** Writes the slot's view if it is newer than the stored one; true when written. */
  save(state: SlotState): Promise<boolean>;
  /** Queues the save on a pipeline (the projector writes a whole batch in one round trip). */
  saveMany(states: SlotState[]): Promise<void>;
  getViewBody(slotId: string): Promise<string | null>;
  getSlotBody(slotId: string): Promise<string | null>;
  getSlotBodies(slotIds: string[]): Promise<(string | null)[]>;
  getTokenBody(tokenId: string): Promise<string | null>;
  changesChannel: string;
}

type RedisWithSave = Redis & {
  opdSaveIfNewer(ver: string, view: string, slot: string, channel: string, ...args: (string | number)[]): Promise<number>;
};

export function createViewStore(redis: Redis, prefix: string): ViewStore {
  const client = redis as RedisWithSave;
  if (typeof (redis as { opdSaveIfNewer?: unknown }).opdSaveIfNewer !== 'function') redis.defineCommand('opdSaveIfNewer', { numberOfKeys: 4, lua: SAVE_IF_NEWER });
  const key = {
    ver: (slotId: string) => `${prefix}ver:${slotId}`,
    view: (slotId: string) => `${prefix}view:${slotId}`,
    slot: (slotId: string) => `${prefix}slot:${slotId}`,
    token: (tokenId: string) => `${prefix}token:${tokenId}`,
  };
  const changesChannel = `${prefix}slot-changes`;

  function args(state: SlotState): [string, string, string, string, ...(string | number)[]] {
    const { tokens, ...view } = buildSlotView(state);
    const tokenArgs: string[] = [];
    for (const token of tokens) tokenArgs.push(token.id, JSON.stringify({ token }));
    return [
      key.ver(state.slot.id),
      key.view(state.slot.id),
      key.slot(state.slot.id),
      changesChannel,
      state.slot.version,
      TTL_SECONDS,
      JSON.stringify(view),
      JSON.stringify({ slot: view.slot }),
      `${prefix}token:`,
      ...tokenArgs,
    ];
  }

  return {
    changesChannel,
    async save(state) {
      return (await client.opdSaveIfNewer(...args(state))) === 1;
    },
    async saveMany(states) {
      if (states.length === 0) return;
      const pipeline = client.pipeline() as unknown as { opdSaveIfNewer: RedisWithSave['opdSaveIfNewer']; exec(): Promise<unknown> };
      for (const state of states) void pipeline.opdSaveIfNewer(...args(state));
      const results = (await pipeline.exec()) as [Error | null, unknown][];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    },
    getViewBody: (slotId) => redis.get(key.view(slotId)),
    getSlotBody: (slotId) => redis.get(key.slot(slotId)),
    getSlotBodies: (slotIds) => (slotIds.length ? redis.mget(slotIds.map(key.slot)) : Promise.resolve([])),
    getTokenBody: (tokenId) => redis.get(key.token(tokenId)),
  };
}
