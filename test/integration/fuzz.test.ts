/**
 * Generated bad input against the whole HTTP API: wrong types, missing and extra fields, huge
 * strings, unicode, SQL-looking text, invalid ids. Every answer is a 4xx in the contract's error
 * shape, never a 5xx, and the slot under test never changes.
 */
import fc from 'fast-check';
import { call, createDoctorWithSlot } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let slotId: string;
let tokenId: string;

beforeAll(async () => {
  system = await startSystem({ label: 'fuzz' });
  ({ slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 }));
  const booked = await call(system.edgeUrl, 'POST', '/api/tokens/book', { slotId, source: 'ONLINE', patient: { name: 'Fuzz target', mrn: 'FZ-1' } });
  tokenId = booked.body.token.id;
});
afterAll(async () => {
  await system?.close();
});

async function slotState() {
  const { rows } = await system.pool.query(
    `SELECT s.version, json_agg(json_build_object('id', t.id, 'status', t.status) ORDER BY t.number) AS tokens
       FROM slots s LEFT JOIN tokens t ON t.slot_id = s.id WHERE s.id = $1 GROUP BY s.version`,
    [slotId],
  );
  return rows[0];
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom("'; DROP TABLE tokens; --", '<script>alert(1)</script>', '../../etc/passwd', '\u0000', '🙂'.repeat(30), 'x'.repeat(5000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

function expectClientError(answer: { status: number; body: any }) {
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  expect(typeof answer.body.error.code).toBe('string');
  expect(typeof answer.body.error.message).toBe('string');
}

describe('fuzzing the HTTP API', () => {
  it('mutated booking bodies: one field replaced, removed or added', async () => {
    const before = await slotState();
    const fields = ['slotId', 'source', 'patient', 'onFull', 'patient.name', 'patient.phone', 'patient.mrn', 'extra'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.option(nasty, { nil: undefined }), async (field, value) => {
        const body: any = { slotId, source: 'ONLINE', patient: { name: 'Fuzz', mrn: 'FZ-1' } };
        const [head, tail] = field.split('.');
        if (tail) body.patient[tail] = value;
        else body[head] = value;
        const answer = await call(system.edgeUrl, 'POST', '/api/tokens/book', body);
        // The slot is full and FZ-1 already holds its place, so even a body that happens to be valid changes nothing.
        expectClientError(answer);
      }),
      { numRuns: 120 },
    );
    expect(await slotState()).toEqual(before);
  });

  it('arbitrary JSON bodies and raw bytes on every write endpoint', async () => {
    const before = await slotState();
    const endpoints = [
      ['POST', '/api/tokens/book'],
      ['POST', '/api/doctors'],
      ['POST', '/api/slots'],
      // BOOKED cannot complete: whatever the body, this answer is a 4xx.
      ['PATCH', `/api/tokens/${tokenId}/complete`],
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 200 })),
        async ([method, path], raw) => {
          const answer = await call(system.edgeUrl, method, path, raw);
          expectClientError(answer);
        },
      ),
      { numRuns: 120 },
    );
    expect(await slotState()).toEqual(before);
  });

  it('invalid ids in every path', async () => {
    await fc.assert(
      fc.asyncProperty(nasty.map((v) => (typeof v === "string" ? v : JSON.stringify(v))), async (id) => {
        const encoded = encodeURIComponent(id).slice(0, 400) || '%20';
        for (const [method, path] of [
          ['GET', `/api/tokens/${encoded}`],
          ['GET', `/api/tokens/view/${encoded}`],
          ['GET', `/api/slots/${encoded}`],
          ['PATCH', `/api/tokens/${encoded}/no-show`],
          ['POST', `/api/slots/${encoded}/call-next`],
        ] as const) {
          expectClientError(await call(system.edgeUrl, method, path));
        }
      }),
      { numRuns: 60 },
    );
  });
});
