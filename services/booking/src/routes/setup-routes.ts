import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError, CreateDoctorRequestSchema, CreateSlotRequestSchema, canSeeBranch, parseRequest, requireAllowed, type Doctor } from '@opd/shared';
import type { GatewayContext } from '../gateway-context';

interface DoctorRow {
  id: string;
  branch_id: string;
  name: string;
  department: string | null;
}

const toDoctor = (row: DoctorRow): Doctor => ({ id: row.id, branchId: row.branch_id, name: row.name, department: row.department });

export function registerSetupRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  // Doctors are reference data, not slot state: the gateway writes them directly.
  app.post('/api/doctors', async (request, reply) => {
    const body = parseRequest(CreateDoctorRequestSchema, request.body, 'body');
    requireAllowed(request.identity, { kind: 'setup' });
    if (!canSeeBranch(request.identity, body.branchId)) {
      throw new AppError('FORBIDDEN', `This key may not set up branch ${body.branchId}`, { branchId: body.branchId });
    }
    request.auditTarget = { branchId: body.branchId };
    const doctor: Doctor = { id: body.id ?? randomUUID(), branchId: body.branchId, name: body.name, department: body.department ?? null };
    const inserted = await ctx.pool.query<DoctorRow>(
      `INSERT INTO doctors (id, branch_id, name, department) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING id, branch_id, name, department`,
      [doctor.id, doctor.branchId, doctor.name, doctor.department],
    );
    if (inserted.rowCount === 1) return reply.code(201).send({ doctor: toDoctor(inserted.rows[0]) });
    const { rows } = await ctx.pool.query<DoctorRow>('SELECT id, branch_id, name, department FROM doctors WHERE id = $1', [doctor.id]);
    const existing = toDoctor(rows[0]);
    const same = existing.branchId === doctor.branchId && existing.name === doctor.name && existing.department === doctor.department;
    if (!same) throw new AppError('ALREADY_EXISTS', `Doctor ${doctor.id} already exists with other details`, { id: doctor.id });
    return reply.code(200).send({ doctor: existing });
  });

  // A slot is slot state: its creation goes through the slot's partition like every other change.
  app.post('/api/slots', async (request, reply) => {
    const body = parseRequest(CreateSlotRequestSchema, request.body, 'body');
    requireAllowed(request.identity, { kind: 'setup' });
    const { rows } = await ctx.pool.query<{ branch_id: string }>('SELECT branch_id FROM doctors WHERE id = $1', [body.doctorId]);
    if (!rows[0] || !canSeeBranch(request.identity, rows[0].branch_id)) {
      throw new AppError('NOT_FOUND', `Doctor ${body.doctorId} not found`, { doctorId: body.doctorId });
    }
    const slotId = randomUUID();
    request.auditTarget = { slotId, branchId: rows[0].branch_id };
    const decision = await ctx.bus.dispatch({
      schemaVersion: 1,
      commandId: randomUUID(),
      slotId,
      replyTo: ctx.instanceId,
      issuedAt: new Date().toISOString(),
      type: 'slot.create',
      doctorId: body.doctorId,
      branchId: rows[0].branch_id,
      // Stored and served in one normal form (UTC, milliseconds).
      start: new Date(body.start).toISOString(),
      end: new Date(body.end).toISOString(),
      capacity: body.capacity,
      // Extension: per-source quotas (the schema has already refused EMERGENCY, repeats and sums over capacity).
      ...(body.quotas ? { quotas: body.quotas.map((q) => ({ ...q, source: q.source as Exclude<typeof q.source, 'EMERGENCY'> })) } : {}),
    });
    if (!decision) {
      return reply.code(202).header('Location', `/api/slots/${slotId}`).send({ slot: { id: slotId, status: 'PENDING' } });
    }
    return reply.code(decision.status).send(decision.body);
  });
}
