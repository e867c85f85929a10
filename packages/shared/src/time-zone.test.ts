import { dayRange, startOfDay } from './time-zone';

describe('days in a time zone', () => {
  it('finds midnight in UTC and in a zone ahead of it', () => {
    expect(new Date(startOfDay('2026-11-25', 'UTC')).toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(new Date(startOfDay('2026-11-25', 'Asia/Kolkata')).toISOString()).toBe('2026-11-24T18:30:00.000Z');
  });
  it('has 23 hours on a spring-forward day', () => {
    const [start, end] = dayRange('2026-03-29', 'Europe/London');
    expect(new Date(start).toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect((end - start) / 3600_000).toBe(23);
  });
});
