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
