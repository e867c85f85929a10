/**
 * Views for public screens: the same JSON as GET /api/tokens/view/{slotId} with `patient`
 * removed from every token. Waiting-room boards and patient pages ask for it with `?public=1`, so
 * patient names never reach a public screen, not even in the data behind it.
 */
const TOKEN_LISTS = ['nowServing', 'queue', 'waitlist', 'tokens'] as const;

export function redactToken<T>(token: T): T {
  if (!token || typeof token !== 'object') return token;
  const { patient: _patient, ...rest } = token as Record<string, unknown>;
  return rest as T;
}

export function publicView<T>(view: T): T {
  if (!view || typeof view !== 'object') return view;
  const copy = { ...(view as Record<string, unknown>) };
  for (const list of TOKEN_LISTS) {
    const tokens = copy[list];
    if (Array.isArray(tokens)) copy[list] = tokens.map(redactToken);
  }
  return copy as T;
}

export function publicViewBody(body: string): string {
  return JSON.stringify(publicView(JSON.parse(body)));
}
