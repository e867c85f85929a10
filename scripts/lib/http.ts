/**
 * A small JSON client for the scripts (simulate, seed scenario). Talks to the public HTTP
 * contract only, through the edge base URL.
 */
import { authHeaders } from './api-key';

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<JsonResponse<T>> {
  const baseHeaders = { ...authHeaders(), ...options.headers };
  const headers = body === undefined ? baseHeaders : { 'content-type': 'application/json', ...baseHeaders };
  const response = await fetch(base.replace(/\/+$/, '') + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Retries `read` until `accept` holds or the time is up; returns the last value either way. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}

/** The `error.code` of a contract error body, if there is one. */
export function errorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

export function describe(response: JsonResponse): string {
  return `${response.status} ${typeof response.body === 'string' ? response.body : JSON.stringify(response.body)}`;
}
