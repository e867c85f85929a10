/**
 * Bounded caches in recency order: a Map iterates in insertion order, so re-inserting a key on
 * use keeps the least recently used entries first, and those are the ones dropped.
 */
export function setRecent<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
}

/** Drops the least recently set entries until at most `max` are left. */
export function dropOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
