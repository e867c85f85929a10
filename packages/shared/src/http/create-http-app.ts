import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { errorBody } from '../errors';
import { registerErrorHandling } from './error-handler';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** A fastify instance with the settings every service shares: pino, 64 KiB bodies, contract errors. */
export function createHttpApp(logger: Logger, options: { requestLogs?: boolean } = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: !options.requestLogs }),
    // Ids travel in paths; keep long garbage out of the router early.
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises before any route runs (bad URL encoding, an over-long id) still
    // answer in the contract's shape.
    frameworkErrors: (error, _request, reply) => {
      const body = errorBody('VALIDATION_ERROR', error.message, { fields: [{ field: 'params', message: error.message }] });
      void (reply as unknown as FastifyReply).code(400).send(body);
    },
  });
  registerErrorHandling(app);
  // JSON only (anything else is a 415). An empty body with a JSON content type is "no body"
  // (clients send that on PATCH), not an error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      const error = new Error(`Body is not valid JSON: ${(err as Error).message}`) as Error & { statusCode: number };
      error.statusCode = 400;
      done(error, undefined);
    }
  });
  return app;
}
