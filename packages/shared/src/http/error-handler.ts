import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, errorBody } from '../errors';

/** The one place where errors become HTTP answers in the contract's shape. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    if (err instanceof AppError) {
      if (err.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(err.retryAfterSeconds));
      if (err.httpStatus >= 500) request.log.warn({ code: err.code, msg: err.message }, 'request failed');
      return reply.code(err.httpStatus).send(err.toBody());
    }
    const fastifyError = err as FastifyError;
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', 'Request body is larger than 64 KiB'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json'));
    }
    if (isDependencyDown(err)) {
      request.log.warn({ err: (err as Error).message }, 'a dependency is unavailable');
      return reply.code(503).header('Retry-After', '1').send(errorBody('UNAVAILABLE', 'Service temporarily unavailable; please retry'));
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Malformed JSON, empty JSON body and the like: the body is the bad field.
      return reply.code(400).send(
        errorBody('VALIDATION_ERROR', fastifyError.message, { fields: [{ field: 'body', message: fastifyError.message }] }),
      );
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL', 'Internal server error'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** PostgreSQL SQLSTATE classes 08 (connection) and 57P (shutdown), and socket errors. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** A database or Redis that is restarting: the client should retry, not see a 500. */
export function isDependencyDown(err: unknown): boolean {
  const { code, message, name } = err as { code?: string; message?: string; name?: string };
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  return /Connection terminated|timeout exceeded when trying to connect|Connection is closed/i.test(message ?? '');
}
