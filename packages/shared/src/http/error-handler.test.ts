import { isDependencyDown } from './error-handler';

describe('isDependencyDown', () => {
  it('recognises a restarting PostgreSQL or Redis', () => {
    expect(isDependencyDown(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isDependencyDown(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyDown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyDown(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
  });
  it('leaves real bugs alone', () => {
    expect(isDependencyDown(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyDown(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});
