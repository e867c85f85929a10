/** A small JSON client for tests, plus polling for the eventually-consistent read side. */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Retries `read` until `accept` holds or the time is up; returns the last value either way. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

export interface SeedDoctor {
  id: string;
  slotId: string;
}

/** Creates a doctor and one slot (starting now, lasting an hour unless told) through the API. */
export async function createDoctorWithSlot(
  base: string,
  options: { capacity: number; name?: string; branchId?: string; startOffsetMinutes?: number; minutes?: number },
): Promise<SeedDoctor> {
  const doctor = await call(base, 'POST', '/api/doctors', {
    branchId: options.branchId ?? 'branch-a',
    name: options.name ?? 'Dr. Test',
  });
  if (doctor.status !== 201) throw new Error(`doctor: ${doctor.status} ${JSON.stringify(doctor.body)}`);
  const slotId = await createSlot(base, doctor.body.doctor.id, options);
  return { id: doctor.body.doctor.id, slotId };
}

export async function createSlot(
  base: string,
  doctorId: string,
  options: { capacity: number; startOffsetMinutes?: number; minutes?: number },
): Promise<string> {
  const start = Date.now() + (options.startOffsetMinutes ?? 0) * 60_000;
  const slot = await call(base, 'POST', '/api/slots', {
    doctorId,
    start: new Date(start).toISOString(),
    end: new Date(start + (options.minutes ?? 60) * 60_000).toISOString(),
    capacity: options.capacity,
  });
  if (slot.status !== 201) throw new Error(`slot: ${slot.status} ${JSON.stringify(slot.body)}`);
  return slot.body.slot.id;
}
