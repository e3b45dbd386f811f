// GET /services/{id}/logs and /tasks/{id}/logs: the lines of a service's (or one task's) containers on every
// node, gathered by the leader's log broker, in Docker's multiplexed framing with its details and timestamps.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorMessage, type Task } from '../../api/index.js';
import {
  logFrame,
  parseLogQuery,
  type LogMessage,
  type LogSelector,
  type LogService,
} from '../logs/index.js';
import type { StoreSource } from './store-source.js';
import { lookup } from './lookup.js';

type Query = Record<string, string | undefined>;

export function logRoutes(store: StoreSource, logs: () => LogService) {
  return (app: FastifyInstance): void => {
    // Followed logs would hold the server open: they end when it closes.
    const streams = new Set<AbortController>();
    app.addHook('preClose', (done) => {
      for (const s of streams) s.abort();
      done();
    });

    const serve = async (
      req: { query: unknown },
      reply: FastifyReply,
      select: () => { selector: LogSelector; tty: boolean },
    ): Promise<void> => {
      const { options, output } = parseLogQuery(req.query as Query);
      const { selector, tty } = select();
      const source = logs();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': tty
          ? 'application/vnd.docker.raw-stream'
          : 'application/vnd.docker.multiplexed-stream',
      });
      res.flushHeaders();
      const abort = new AbortController();
      streams.add(abort);
      res.on('close', () => abort.abort());
      const write = (batch: LogMessage[]): void => {
        if (res.destroyed) return;
        for (const m of batch) {
          const f = logFrame(m, output);
          res.write(tty ? f.subarray(8) : f);
        }
      };
      try {
        await source.subscribe(selector, options, write, abort.signal);
      } catch (err) {
        app.log.warn({ err: errorMessage(err) }, 'service logs ended with an error');
      } finally {
        streams.delete(abort);
        res.end();
      }
    };

    app.get<{ Params: { id: string } }>('/services/:id/logs', (req, reply) =>
      serve(req, reply, () =>
        store().view((tx) => {
          const s = lookup(tx, 'service', req.params.id);
          return {
            selector: { serviceIds: [s.ID], taskIds: [] },
            tty: !!s.Spec.TaskTemplate.ContainerSpec?.TTY,
          };
        }),
      ),
    );

    app.get<{ Params: { id: string } }>('/tasks/:id/logs', (req, reply) =>
      serve(req, reply, () =>
        store().view((tx) => {
          const t: Task = lookup(tx, 'task', req.params.id);
          return { selector: { serviceIds: [], taskIds: [t.ID] }, tty: !!t.Spec.ContainerSpec?.TTY };
        }),
      ),
    );
  };
}
