/**
 * The read model announces every new slot view on one Redis pub/sub channel, with the view's JSON
 * as the message. The query service publishes (and feeds display streams from it); the edge
 * listens to drop cached views.
 */
export function viewChangesChannel(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}slot-changes`;
}

// A view's JSON starts with its slot: `{"slot":{"id":"<slotId>",...`.
const LEADING_SLOT_ID = /^\{"slot":\{"id":"([^"\\]+)"/;

/** The slot a change message is about, without parsing the whole view; null if it is not a view. */
export function slotIdOfViewChange(message: string): string | null {
  const leading = LEADING_SLOT_ID.exec(message);
  if (leading) return leading[1];
  try {
    const id = (JSON.parse(message) as { slot?: { id?: unknown } }).slot?.id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}
