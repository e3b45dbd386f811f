// The HTTP API server: Docker-style versioned paths, JSON errors ({"message": …}) and body parsing.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  API_VERSION,
  MIN_API_VERSION,
  InvalidArgument,
  httpStatusOf,
  TsswarmError,
  type Logger,
} from '../../api/index.js';

const VERSION_PREFIX = /^\/v(\d+)\.(\d+)(?=\/)/;

declare module 'fastify' {
  interface FastifyRequest {
    /** API version the client asked for in its path, or the server's when unversioned. */
    apiVersion: string;
  }
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

export type RouteModule = (app: FastifyInstance) => void;

/** Docker's error body. The docker CLI decodes it only when Content-Type is exactly "application/json". */
function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  // A Buffer body keeps the header as set (fastify appends a charset to string bodies).
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify({ message })));
}

export function createHttpServer(log: Logger, modules: RouteModule[]): FastifyInstance {
  const requested = new WeakMap<object, string>();
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024 * 1024,
    // The docker CLI sends long filter query strings.
    routerOptions: { maxParamLength: 1024 },
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      const m = VERSION_PREFIX.exec(url);
      if (!m) return url;
      requested.set(req, `${m[1]}.${m[2]}`);
      return url.slice(m[0].length);
    },
  });
  app.decorateRequest('apiVersion', '');
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const v = requested.get(req.raw);
    req.apiVersion = v ?? API_VERSION;
    if (v && compareVersions(v, API_VERSION) > 0) {
      throw new InvalidArgument(
        `client version ${v} is too new. Maximum supported API version is ${API_VERSION}`,
      );
    }
    if (v && compareVersions(v, MIN_API_VERSION) < 0) {
      throw new InvalidArgument(
        `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
      );
    }
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new InvalidArgument(`invalid JSON: ${(err as Error).message}`), undefined);
    }
  });
  // Everything else (tar uploads, text/plain from the docker CLI's empty POSTs) reaches the route as a stream.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.setErrorHandler((thrown, req, reply) => {
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    const fastifyStatus = (err as { statusCode?: number }).statusCode;
    const status = err instanceof TsswarmError ? httpStatusOf(err) : (fastifyStatus ?? 500);
    if (status >= 500)
      log.error('api request failed', { method: req.method, url: req.url, err: err.message });
    else log.debug('api request rejected', { method: req.method, url: req.url, status, err: err.message });
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void sendError(reply, status, err.message);
  });
  app.setNotFoundHandler((_req, reply) => {
    void sendError(reply, 404, 'page not found');
  });
  for (const m of modules) m(app);
  return app;
}
