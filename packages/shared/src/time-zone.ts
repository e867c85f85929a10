/** Calendar days in a branch's time zone, as epoch milliseconds (DST-safe). */

function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant a calendar day (YYYY-MM-DD) begins in the time zone. */
export function startOfDay(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number);
  const naive = Date.UTC(year, month - 1, day);
  const first = naive - offsetMs(naive, timeZone);
  // Across a DST change the offset at the guess and at the answer differ: take the answer's.
  return naive - offsetMs(first, timeZone);
}

/** [start, end) of a calendar day in the time zone. */
export function dayRange(date: string, timeZone: string): [number, number] {
  const [year, month, day] = date.split('-').map(Number);
  const next = new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
  return [startOfDay(date, timeZone), startOfDay(next, timeZone)];
}
