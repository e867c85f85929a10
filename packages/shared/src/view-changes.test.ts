import { changedSlotIdsChannel, viewChangesChannel } from './view-changes';

describe('view change channels', () => {
  it('are named under the key prefix, one for views and one for slot ids', () => {
    expect(viewChangesChannel('opd:')).toBe('opd:slot-changes');
    expect(changedSlotIdsChannel('opd:')).toBe('opd:slot-changed-ids');
    expect(changedSlotIdsChannel('t1:')).not.toBe(viewChangesChannel('t1:'));
  });
});
