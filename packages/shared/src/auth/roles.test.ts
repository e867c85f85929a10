import { SOURCES } from '../schemas/common';
import { ROLES, isAllowed, maskName, seesPatientNames, type Action, type Role } from './roles';

describe('role x action matrix', () => {
  const bookers: Record<Role, string[]> = {
    kiosk: ['WALK_IN'],
    portal: ['FOLLOW_UP', 'ONLINE'],
    desk: [...SOURCES].sort(),
    doctor: [],
    display: [],
    er: ['EMERGENCY'],
    admin: [...SOURCES].sort(),
  };
  it.each(ROLES)('%s books exactly its sources', (role) => {
    const allowed = SOURCES.filter((source) => isAllowed(role, { kind: 'book', source })).sort();
    expect(allowed).toEqual(bookers[role]);
  });

  it('only desk, er and admin book emergencies', () => {
    expect(ROLES.filter((r) => isAllowed(r, { kind: 'book', source: 'EMERGENCY' }))).toEqual(['desk', 'er', 'admin']);
  });

  const moves: [Action, Role[]][] = [
    [{ kind: 'cancel', ownToken: false }, ['desk', 'admin']],
    [{ kind: 'cancel', ownToken: true }, ['portal', 'desk', 'admin']],
    [{ kind: 'check-in' }, ['desk', 'er', 'admin']],
    [{ kind: 'no-show' }, ['desk', 'doctor', 'admin']],
    [{ kind: 'call-next' }, ['doctor', 'admin']],
    [{ kind: 'complete' }, ['doctor', 'admin']],
    [{ kind: 'setup' }, ['admin']],
    [{ kind: 'audit' }, ['admin']],
    [{ kind: 'read' }, [...ROLES]],
  ];
  it.each(moves)('%o is allowed to exactly %o', (action, roles) => {
    expect(ROLES.filter((r) => isAllowed(r, action))).toEqual(roles);
  });
});

describe('masking', () => {
  it('keeps the first letter of each name part', () => {
    expect(maskName('Asha Rao')).toBe('A*** R**');
    expect(maskName('  Li  ')).toBe('L*');
    expect(maskName('Ñandú Ölz')).toBe('Ñ**** Ö**');
  });
  it('hides names from displays only', () => {
    expect(ROLES.filter((r) => !seesPatientNames(r))).toEqual(['display']);
  });
});
