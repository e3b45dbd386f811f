// Container routes of this node as the Docker Engine API: list, inspect, create, start, stop, kill, restart,
// wait, remove (exec and logs are in their own files).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidArgument } from '../../api/index.js';
import {
  NotModified,
  type ContainerManager,
  type CreateBody,
  type ExecSessions,
} from '../../runtime/index.js';
import { filterContainers, inspectBody, parseFilters, summaryBody } from './container-view.js';
import { containerLogRoutes } from './container-logs.js';
import { execRoutes } from './exec-routes.js';

type Query = Record<string, string | undefined>;
type IdParams = { id: string };

export const truthy = (v: string | undefined): boolean =>
  v !== undefined && ['1', 'true', 'True', 'yes'].includes(v);

function seconds(v: string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new InvalidArgument(`invalid value for ${what}: ${v}`);
  return Number(v);
}

/** 304 when the container already is in the asked state, 204 otherwise (Docker's start/stop). */
async function noContentOr304(reply: FastifyReply, op: () => Promise<void>): Promise<FastifyReply> {
  try {
    await op();
  } catch (err) {
    if (err instanceof NotModified) return reply.code(304).send();
    throw err;
  }
  return reply.code(204).send();
}

export function containerRoutes(containers: ContainerManager, execs: ExecSessions) {
  return (app: FastifyInstance): void => {
    // Long-lived responses (wait, logs follow, exec streams) would hold the server open: end them on close.
    const streams = new Set<{ destroy(): void }>();
    const track = (s: { destroy(): void; once(e: 'close', f: () => void): unknown }) => {
      streams.add(s);
      s.once('close', () => streams.delete(s));
    };
    app.addHook('preClose', (done) => {
      for (const s of streams) s.destroy();
      done();
    });
    app.get('/containers/json', async (req) => {
      const q = req.query as Query;
      const filters = parseFilters(q.filters);
      let list = filterContainers(containers.list(), truthy(q.all), filters);
      const limit = seconds(q.limit, 'limit');
      if (limit !== undefined && limit > 0) list = list.slice(0, limit);
      return list.map(summaryBody);
    });

    app.get<{ Params: IdParams }>('/containers/:id/json', async (req) => {
      const rec = containers.get(req.params.id);
      return inspectBody(rec, containers.dirOf(rec.Id), execs.idsOf(rec.Id));
    });

    app.post('/containers/create', async (req, reply) => {
      const q = req.query as Query;
      const body = req.body as CreateBody | undefined;
      if (
        !body ||
        typeof body !== 'object' ||
        Buffer.isBuffer(body) ||
        typeof (body as { pipe?: unknown }).pipe === 'function'
      )
        throw new InvalidArgument('Config cannot be empty in order to create a container');
      if (q.platform && !/^linux(\/|$)/.test(q.platform))
        throw new InvalidArgument(`image platform ${q.platform} is not supported on this node (linux only)`);
      const created = await containers.create(body, q.name || undefined);
      return reply.code(201).send(created);
    });

    app.post<{ Params: IdParams }>('/containers/:id/start', async (req, reply) =>
      noContentOr304(reply, () => containers.startContainer(req.params.id)),
    );

    app.post<{ Params: IdParams }>('/containers/:id/stop', async (req, reply) => {
      const q = req.query as Query;
      const timeoutSeconds = seconds(q.t, 't');
      return noContentOr304(reply, () =>
        containers.stopContainer(req.params.id, { timeoutSeconds, signal: q.signal }),
      );
    });

    app.post<{ Params: IdParams }>('/containers/:id/kill', async (req, reply) => {
      await containers.kill(req.params.id, (req.query as Query).signal || 'SIGKILL');
      return reply.code(204).send();
    });

    app.post<{ Params: IdParams }>('/containers/:id/restart', async (req, reply) => {
      await containers.restart(req.params.id, seconds((req.query as Query).t, 't'));
      return reply.code(204).send();
    });

    app.post<{ Params: IdParams }>('/containers/:id/wait', async (req, reply) => {
      const condition = (req.query as Query).condition || 'not-running';
      containers.get(req.params.id); // 404 and 400 before the 200 goes out
      if (!['not-running', 'next-exit', 'removed'].includes(condition))
        throw new InvalidArgument(`invalid condition: "${condition}"`);
      // Headers go out now (as dockerd does), so clients know the wait has begun.
      reply.hijack();
      track(reply.raw);
      reply.raw.writeHead(200, { 'content-type': 'application/json' });
      reply.raw.flushHeaders();
      try {
        const r = await containers.wait(req.params.id, condition);
        reply.raw.end(JSON.stringify(r) + '\n');
      } catch (err) {
        reply.raw.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
      }
    });

    app.delete<{ Params: IdParams }>('/containers/:id', async (req, reply) => {
      const q = req.query as Query;
      if (truthy(q.link)) throw new InvalidArgument('links are not supported');
      await containers.remove(req.params.id, { force: truthy(q.force) });
      return reply.code(204).send();
    });

    containerLogRoutes(containers, track)(app);
    execRoutes(execs, track)(app);
  };
}
