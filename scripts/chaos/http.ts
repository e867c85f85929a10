import { request } from '../lib/http';

/** The chaos run's HTTP client: never throws, records status, body, error and duration of each answer. */
export interface Answer {
  /** HTTP status; 0 when there was no answer (connection refused, reset, timeout). */
  status: number;
  body: any;
  error?: string;
  ms: number;
}

export async function send(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await request(base, method, path, body, { headers, timeoutMs });
    return { status: response.status, body: response.body, ms: Date.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: undefined, error: cause ?? (err as Error).message, ms: Date.now() - started };
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function errorCodeOf(answer: Answer): string | undefined {
  const code = answer.body?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `201`, `409 SLOT_FULL`, `0 ECONNREFUSED`: how an answer is counted. */
export function answerLabel(answer: Answer): string {
  if (answer.status === 0) return `no answer (${answer.error ?? 'error'})`;
  const code = errorCodeOf(answer);
  return code ? `${answer.status} ${code}` : String(answer.status);
}
