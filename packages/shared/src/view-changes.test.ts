import { slotIdOfViewChange, viewChangesChannel } from './view-changes';

describe('view change messages', () => {
  it('names the channel under the key prefix', () => {
    expect(viewChangesChannel('opd:')).toBe('opd:slot-changes');
  });

  it('reads the slot id from the head of a view without parsing the rest', () => {
    expect(slotIdOfViewChange('{"slot":{"id":"s-1","doctorId":"d"},"queue":[{"id":"t"}]')).toBe('s-1');
  });

  it('falls back to parsing when the slot is not first', () => {
    expect(slotIdOfViewChange(JSON.stringify({ version: 3, slot: { id: 's-2' } }))).toBe('s-2');
  });

  it('answers null for anything that is not a view', () => {
    expect(slotIdOfViewChange('not json')).toBeNull();
    expect(slotIdOfViewChange('{"slot":{}}')).toBeNull();
    expect(slotIdOfViewChange('{"other":1}')).toBeNull();
  });
});
