import fc from 'fast-check';
import { dropOldest, setRecent } from './recent-map';

describe('recent map', () => {
  it('drops the least recently set entries first', () => {
    const map = new Map<string, number>();
    setRecent(map, 'a', 1);
    setRecent(map, 'b', 2);
    setRecent(map, 'c', 3);
    setRecent(map, 'a', 4); // used again: now the most recent
    dropOldest(map, 2);
    expect([...map]).toEqual([
      ['c', 3],
      ['a', 4],
    ]);
  });

  it('keeps the last `max` distinct keys set, with their last values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer())), fc.integer({ min: 0, max: 5 }), (sets, max) => {
        const map = new Map<number, number>();
        for (const [key, value] of sets) {
          setRecent(map, key, value);
          dropOldest(map, max);
        }
        const expected: [number, number][] = [];
        for (let i = sets.length - 1; i >= 0 && expected.length < max; i -= 1) {
          if (!expected.some(([k]) => k === sets[i][0])) expected.unshift(sets[i]);
        }
        expect([...map]).toEqual(expected);
      }),
    );
  });
});
