import type { z } from 'zod';
import { AppError } from '../errors';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Turns zod issues into the contract's `details.fields`, one entry per bad field. */
export function fieldProblems(error: z.ZodError, root: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = [root, ...issue.path.map(String)].filter(Boolean);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: [...base, key].join('.'), message: 'unknown field' });
    } else {
      problems.push({ field: base.join('.') || root, message: issue.message });
    }
  }
  return problems;
}

/**
 * Validates one part of a request. `root` prefixes field names only for headers, params and
 * query; body fields are named as the client wrote them (`patient.name`).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, root: 'body' | 'params' | 'query' | 'headers'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldProblems(result.error, root === 'body' ? '' : root);
  const named = fields.map((f) => f.field || 'body').join(', ');
  throw new AppError('VALIDATION_ERROR', `Invalid request: ${named}`, {
    fields: fields.map((f) => ({ ...f, field: f.field || 'body' })),
  });
}
