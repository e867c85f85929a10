import { call, createDoctorWithSlot, eventually } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

describe('booking through the edge, Kafka, the allocator, PostgreSQL and Redis', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ label: 'flow' });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('books a token and serves it in the view', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 5 });
    const booked = await call(system.edgeUrl, 'POST', '/api/tokens/book', {
      slotId,
      source: 'ONLINE',
      patient: { name: 'Asha', phone: '+91 98765 43210' },
    });
    expect(booked.status).toBe(201);
    expect(booked.body.token).toMatchObject({ slotId, number: 1, source: 'ONLINE', weight: 4, status: 'BOOKED', position: 1, overCapacity: false });

    const view = await eventually(
      () => call(system.edgeUrl, 'GET', `/api/tokens/view/${slotId}`),
      (r) => r.status === 200 && r.body.queue.length === 1,
    );
    expect(view.body.queue[0].id).toBe(booked.body.token.id);
    expect(view.body.slot).toMatchObject({ capacity: 5, activeCount: 1, available: 4, status: 'OPEN' });
  });
});
