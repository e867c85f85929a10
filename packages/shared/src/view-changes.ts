/**
 * The read model announces every new slot view on Redis pub/sub, on two channels: the view's JSON
 * (display streams send it on) and, for listeners that only need to know which slot changed (the
 * edge dropping cached views), the slot id alone, so they do not receive every view's body.
 */
export function viewChangesChannel(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}slot-changes`;
}

/** Messages are bare slot ids. */
export function changedSlotIdsChannel(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}slot-changed-ids`;
}
