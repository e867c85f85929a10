/**
 * The read model in Redis. Per slot: `view:{slotId}` (the body of GET /api/tokens/view, ready to
 * send), `slot:{slotId}` (body of GET /api/slots/{id}), `ver:{slotId}`; per token: `token:{id}`.
 * One Lua script writes them all only if the version is newer than the stored one, so a late or
 * replayed snapshot can never overwrite a newer view (a whole snapshot of the same version is
 * rewritten, which restores keys a partial flush took).
 *
 * Token keys: a booking changes one token (plus the positions and estimates of those behind it),
 * yet a snapshot carries all of them. The store remembers the token bodies it last wrote per slot
 * (for a bounded number of slots) and sends only the changed ones, with the version they are a
 * delta against; the script applies a delta only when Redis holds exactly that version (else it
 * answers 2 and the whole snapshot is written). The body of a token at a given slot version is
 * the same whoever writes it, so this is safe with several query instances and after a flush.
 *
 * Indexes: `branch-slots:{branchId}` and `doctor-slots:{doctorId}` (sorted by start) list the
 * slots for boards and listings. The projector adds each slot it sees; a `:complete` marker says
 * the index was rebuilt from PostgreSQL, so after a flush a reader rebuilds it once. Doctors'
 * names are cached as `doctor:{id}`. Views carry `recentCalls` (extension) for the boards.
 */
import type Redis from 'ioredis';
import { buildSlotView, changedSlotIdsChannel, viewChangesChannel, type SlotState } from '@opd/shared';

const SAVE_IF_NEWER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local incoming = tonumber(ARGV[1])
local base = tonumber(ARGV[6])
if current > incoming then return 0 end
-- The same version again changes nothing, so a delta is dropped; a whole snapshot (a rebuild) is
-- written anyway, without a change message: it restores keys a partial flush took while the
-- version key survived. A slot's bodies at one version are the same whoever writes them.
if current == incoming and base ~= -2 then return 0 end
if current < incoming and base ~= -2 and current ~= base then return 2 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl)
for i = 8, #ARGV, 2 do
  redis.call('SET', ARGV[5] .. ARGV[i], ARGV[i + 1], 'EX', ttl)
end
if current == incoming then return 3 end
redis.call('PUBLISH', KEYS[4], ARGV[3])
redis.call('PUBLISH', KEYS[5], ARGV[7])
return 1
`;
/** Entries outlive a clinic day; a missing entry is rebuilt from PostgreSQL. */
const TTL_SECONDS = 3 * 24 * 3600;

/** Slots whose last written token bodies are remembered (for delta writes); a few MB. */
const MEMORY_SLOTS = 2000;

/** One slot in the branch and doctor indexes (sorted by start). */
export interface IndexedSlot {
  slotId: string;
  branchId: string;
  doctorId: string;
  start: string;
}

export interface ViewStore {
  /** Writes the slot's view if it is newer than the stored one; true when written. */
  save(state: SlotState): Promise<boolean>;
  /** Queues the save on a pipeline (the projector writes a whole batch in one round trip). */
  saveMany(states: SlotState[]): Promise<void>;
  getViewBody(slotId: string): Promise<string | null>;
  getSlotBody(slotId: string): Promise<string | null>;
  getSlotBodies(slotIds: string[]): Promise<(string | null)[]>;
  getTokenBody(tokenId: string): Promise<string | null>;
  /**
   * Slots of a branch starting in [from, to), or null when the index is not known to be complete
   * (after a flush): the caller rebuilds it from PostgreSQL with `indexSlots(..., complete)`.
   */
  branchSlots(branchId: string, from: number, to: number): Promise<{ slotId: string; doctorId: string }[] | null>;
  doctorSlots(doctorId: string, from: number, to: number): Promise<string[] | null>;
  /** Cached doctor records (JSON), null where missing. */
  getDoctors(ids: string[]): Promise<(string | null)[]>;
  saveDoctors(doctors: { id: string; body: string }[]): Promise<void>;
  /** Adds slots to the indexes; `complete` marks whole branches/doctors as rebuilt from PostgreSQL. */
  indexSlots(slots: IndexedSlot[], complete?: { branchIds?: string[]; doctorIds?: string[] }): Promise<void>;
  changesChannel: string;
}

/** KEYS: ver, view, slot, changes channel, changed-ids channel; ARGV: version, ttl, view, slot body, token key prefix, base version, slot id, token id/body pairs. */
type SaveArgs = [string, string, string, string, string, ...(string | number)[]];

type RedisWithSave = Redis & {
  opdSaveIfNewer(ver: string, view: string, slot: string, channel: string, idsChannel: string, ...args: (string | number)[]): Promise<number>;
};

export function createViewStore(redis: Redis, prefix: string): ViewStore {
  const client = redis as RedisWithSave;
  if (typeof (redis as { opdSaveIfNewer?: unknown }).opdSaveIfNewer !== 'function') redis.defineCommand('opdSaveIfNewer', { numberOfKeys: 5, lua: SAVE_IF_NEWER });
  const key = {
    ver: (slotId: string) => `${prefix}ver:${slotId}`,
    view: (slotId: string) => `${prefix}view:${slotId}`,
    slot: (slotId: string) => `${prefix}slot:${slotId}`,
    token: (tokenId: string) => `${prefix}token:${tokenId}`,
    branchSlots: (branchId: string) => `${prefix}branch-slots:${branchId}`,
    doctorSlots: (doctorId: string) => `${prefix}doctor-slots:${doctorId}`,
    complete: (index: string) => `${index}:complete`,
    doctor: (doctorId: string) => `${prefix}doctor:${doctorId}`,
  };
  /** Slots this instance has put in the indexes (bounded): a slot is indexed once, not per change. */
  const indexed = new Set<string>();

  async function indexSlots(slots: IndexedSlot[], complete: { branchIds?: string[]; doctorIds?: string[] } = {}): Promise<void> {
    const fresh = slots.filter((slot) => !indexed.has(slot.slotId) || complete.branchIds || complete.doctorIds);
    if (fresh.length === 0 && !complete.branchIds?.length && !complete.doctorIds?.length) return;
    const pipeline = redis.pipeline();
    for (const slot of fresh) {
      const score = Date.parse(slot.start);
      pipeline.zadd(key.branchSlots(slot.branchId), score, `${slot.slotId}|${slot.doctorId}`).expire(key.branchSlots(slot.branchId), TTL_SECONDS);
      pipeline.zadd(key.doctorSlots(slot.doctorId), score, slot.slotId).expire(key.doctorSlots(slot.doctorId), TTL_SECONDS);
    }
    for (const branchId of complete.branchIds ?? []) pipeline.set(key.complete(key.branchSlots(branchId)), '1', 'EX', TTL_SECONDS);
    for (const doctorId of complete.doctorIds ?? []) pipeline.set(key.complete(key.doctorSlots(doctorId)), '1', 'EX', TTL_SECONDS);
    await pipeline.exec();
    if (indexed.size > 50_000) indexed.clear();
    for (const slot of fresh) indexed.add(slot.slotId);
  }

  async function range(index: string, from: number, to: number): Promise<string[] | null> {
    const bound = (n: number) => (n === -Infinity ? '-inf' : n === Infinity ? '+inf' : String(n));
    const [[, complete], [, members]] = (await redis
      .pipeline()
      .exists(key.complete(index))
      .zrangebyscore(index, bound(from), to === Infinity ? '+inf' : `(${to}`)
      .exec()) as [[Error | null, number], [Error | null, string[]]];
    return complete ? members : null;
  }
  const changesChannel = viewChangesChannel(prefix);
  const changedIdsChannel = changedSlotIdsChannel(prefix);

  /** Token bodies last written per slot (insertion order = age, for the bound). */
  const written = new Map<string, { version: number; tokens: Map<string, string> }>();
  const FULL = -2;

  interface Prepared {
    state: SlotState;
    argv: SaveArgs;
    /** Everything needed for a full write if the delta is refused. */
    full: () => SaveArgs;
    tokens: Map<string, string>;
  }

  function prepare(state: SlotState, allowDelta: boolean): Prepared {
    const { tokens, ...slotView } = buildSlotView(state);
    const view = { ...slotView, recentCalls: recentCalls(state) };
    const bodies = new Map<string, string>();
    for (const token of tokens) bodies.set(token.id, JSON.stringify({ token }));
    const head = (base: number, pairs: string[]): SaveArgs => [
      key.ver(state.slot.id),
      key.view(state.slot.id),
      key.slot(state.slot.id),
      changesChannel,
      changedIdsChannel,
      state.slot.version,
      TTL_SECONDS,
      JSON.stringify(view),
      JSON.stringify({ slot: view.slot }),
      `${prefix}token:`,
      base,
      state.slot.id,
      ...pairs,
    ];
    const allPairs = () => {
      const pairs: string[] = [];
      for (const [id, body] of bodies) pairs.push(id, body);
      return pairs;
    };
    const previous = allowDelta ? written.get(state.slot.id) : undefined;
    let argv;
    if (previous && previous.version < state.slot.version) {
      const pairs: string[] = [];
      for (const [id, body] of bodies) if (previous.tokens.get(id) !== body) pairs.push(id, body);
      argv = head(previous.version, pairs);
    } else {
      argv = head(FULL, allPairs());
    }
    return { state, argv, full: () => head(FULL, allPairs()), tokens: bodies };
  }

  function remember(prepared: Prepared, result: number): void {
    const id = prepared.state.slot.id;
    written.delete(id);
    // 1: written as a newer version; 3: the same version rewritten whole. Either way Redis holds these bodies.
    if (result !== 1 && result !== 3) return;
    if (written.size >= MEMORY_SLOTS) written.delete(written.keys().next().value as string);
    written.set(id, { version: prepared.state.slot.version, tokens: prepared.tokens });
  }

  return {
    changesChannel,
    async save(state) {
      const prepared = prepare(state, false);
      const result = Number(await client.opdSaveIfNewer(...prepared.argv));
      remember(prepared, result);
      await indexSlots([indexEntry(state)]);
      return result === 1;
    },
    async saveMany(states) {
      if (states.length === 0) return;
      const run = async (list: { prepared: Prepared; argv: Prepared['argv'] }[]): Promise<number[]> => {
        const pipeline = client.pipeline() as unknown as { opdSaveIfNewer: RedisWithSave['opdSaveIfNewer']; exec(): Promise<unknown> };
        for (const { argv } of list) void pipeline.opdSaveIfNewer(...argv);
        const results = (await pipeline.exec()) as [Error | null, unknown][];
        const failed = results.find(([err]) => err);
        if (failed) {
          for (const { prepared } of list) written.delete(prepared.state.slot.id);
          throw failed[0];
        }
        return results.map(([, value]) => Number(value));
      };
      const first = states.map((state) => {
        const prepared = prepare(state, true);
        return { prepared, argv: prepared.argv };
      });
      const results = await run(first);
      // A refused delta (Redis did not hold the version it was against): write the whole snapshot.
      const retry = first.filter((_, i) => results[i] === 2).map(({ prepared }) => ({ prepared, argv: prepared.full() }));
      first.forEach(({ prepared }, i) => results[i] !== 2 && remember(prepared, results[i]));
      if (retry.length) (await run(retry)).forEach((result, i) => remember(retry[i].prepared, result));
      await indexSlots(states.map(indexEntry));
    },
    getViewBody: (slotId) => redis.get(key.view(slotId)),
    getSlotBody: (slotId) => redis.get(key.slot(slotId)),
    getSlotBodies: (slotIds) => (slotIds.length ? redis.mget(slotIds.map(key.slot)) : Promise.resolve([])),
    getTokenBody: (tokenId) => redis.get(key.token(tokenId)),
    async branchSlots(branchId, from, to) {
      const members = await range(key.branchSlots(branchId), from, to);
      return members?.map((member) => {
        const [slotId, doctorId] = member.split('|');
        return { slotId, doctorId };
      }) ?? null;
    },
    doctorSlots: (doctorId, from, to) => range(key.doctorSlots(doctorId), from, to),
    getDoctors: (ids) => (ids.length ? redis.mget(ids.map(key.doctor)) : Promise.resolve([])),
    async saveDoctors(doctors) {
      if (doctors.length === 0) return;
      const pipeline = redis.pipeline();
      // Doctors' names rarely change; an hour-old name on a board is fine.
      for (const doctor of doctors) pipeline.set(key.doctor(doctor.id), doctor.body, 'EX', 3600);
      await pipeline.exec();
    },
    indexSlots,
  };
}

function indexEntry(state: SlotState): IndexedSlot {
  return { slotId: state.slot.id, branchId: state.slot.branchId, doctorId: state.slot.doctorId, start: state.slot.start };
}

/** How many recent calls a view carries: boards show them because people miss their call. */
const RECENT_CALLS = 5;

/** Extension field of the view: the last tokens called (now being seen, or done), newest first. */
function recentCalls(state: SlotState) {
  return state.tokens
    .filter((t) => t.status === 'CALLED' || t.status === 'COMPLETED')
    .map((t) => ({ id: t.id, number: t.number, ...(t.label ? { label: t.label } : {}), status: t.status, at: t.calledAt ?? t.updatedAt }))
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.number - a.number))
    .slice(0, RECENT_CALLS);
}
