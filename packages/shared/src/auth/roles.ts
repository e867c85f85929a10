/**
 * Who may do what: the closed set of roles and actions, and the one table that joins them.
 * Pure: the HTTP layer asks `isAllowed`, and answers 403 when it says no.
 */
import type { Source } from '../schemas/common';

export const ROLES = ['kiosk', 'portal', 'desk', 'doctor', 'display', 'er', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Action =
  | { kind: 'book'; source: Source }
  | { kind: 'cancel'; ownToken: boolean }
  | { kind: 'check-in' }
  | { kind: 'no-show' }
  | { kind: 'call-next' }
  | { kind: 'complete' }
  | { kind: 'recall' }
  | { kind: 'transfer' }
  | { kind: 'read' }
  | { kind: 'setup' }
  | { kind: 'audit' };

const BOOKABLE: Record<Role, ReadonlySet<Source>> = {
  kiosk: new Set(['WALK_IN']),
  portal: new Set(['ONLINE', 'FOLLOW_UP']),
  desk: new Set(['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN']),
  doctor: new Set(),
  display: new Set(),
  er: new Set(['EMERGENCY']),
  admin: new Set(['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN']),
};

/** Day-flow moves each role may make (besides booking); admin may do everything. */
const MOVES: Record<Role, ReadonlySet<Action['kind']>> = {
  kiosk: new Set(['read']),
  portal: new Set(['read', 'cancel']),
  desk: new Set(['read', 'cancel', 'check-in', 'no-show', 'recall', 'transfer']),
  doctor: new Set(['read', 'call-next', 'complete', 'recall', 'no-show']),
  display: new Set(['read']),
  er: new Set(['read', 'check-in']),
  admin: new Set(['read', 'cancel', 'check-in', 'no-show', 'call-next', 'complete', 'recall', 'transfer', 'setup', 'audit']),
};

export function isAllowed(role: Role, action: Action): boolean {
  if (action.kind === 'book') return BOOKABLE[role].has(action.source);
  if (!MOVES[role].has(action.kind)) return false;
  // A portal acts for one patient: it may cancel only what it booked.
  if (action.kind === 'cancel' && role === 'portal') return action.ownToken;
  return true;
}

/** Public boards never show who a patient is. */
export function seesPatientNames(role: Role): boolean {
  return role !== 'display';
}

/** "Asha Rao" -> "A*** R**": enough for the patient to recognise, not for others to identify. */
export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => {
      const [first, ...rest] = [...part];
      return first + '*'.repeat(Math.min(rest.length, 6));
    })
    .join(' ');
}
