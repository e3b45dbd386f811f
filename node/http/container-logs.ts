// GET /containers/{id}/logs as dockerd serves it: stdout/stderr selection, since/until, tail, timestamps,
// follow (until the container stops or the client goes), in Docker's multiplexed framing (raw for TTY containers).
import type { FastifyInstance } from 'fastify';
import { InvalidArgument } from '../../api/index.js';
import {
  followLog,
  frame,
  readLogBacklog,
  selectLines,
  type ContainerManager,
  type LogFilter,
  type LogLine,
} from '../../runtime/index.js';
import { truthy } from './container-routes.js';

type Query = Record<string, string | undefined>;

function timestamp(v: string | undefined, what: string): number | undefined {
  if (v === undefined || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid value for ${what}: ${v}`);
  return t / 1000;
}

export function containerLogRoutes(
  containers: ContainerManager,
  track: (s: { destroy(): void; once(e: 'close', f: () => void): unknown }) => void,
) {
  return (app: FastifyInstance): void => {
    app.get<{ Params: { id: string } }>('/containers/:id/logs', async (req, reply) => {
      const q = req.query as Query;
      const rec = containers.get(req.params.id);
      const filter: LogFilter = {
        stdout: truthy(q.stdout),
        stderr: truthy(q.stderr),
        since: timestamp(q.since, 'since'),
        until: timestamp(q.until, 'until'),
        timestamps: truthy(q.timestamps),
      };
      if (!filter.stdout && !filter.stderr)
        throw new InvalidArgument('Bad parameters: you must choose at least one stream');
      if (q.tail && q.tail !== 'all') {
        if (!/^-?\d+$/.test(q.tail)) throw new InvalidArgument(`invalid value for tail: ${q.tail}`);
        if (Number(q.tail) >= 0) filter.tail = Number(q.tail);
      }
      const tty = !!rec.Config.Tty;
      const live = containers.logPath(rec.Id);
      const backlog = readLogBacklog(live, rec.Log.maxFile);
      const lines = selectLines(backlog.lines, filter);

      reply.hijack();
      const res = reply.raw;
      track(res);
      res.writeHead(200, {
        'content-type': tty
          ? 'application/vnd.docker.raw-stream'
          : 'application/vnd.docker.multiplexed-stream',
      });
      res.flushHeaders();
      const send = (l: LogLine) => res.write(frame(l, { timestamps: filter.timestamps, tty }));
      for (const l of lines) send(l);
      if (!truthy(q.follow) || !rec.State.Running) return void res.end();
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const wanted = (l: LogLine) => selectLines([l], { ...filter, tail: undefined }).length === 1;
      try {
        await followLog(
          live,
          backlog.liveBytes,
          (l) => wanted(l) && send(l),
          () => !containers.isRunning(rec.Id),
          abort.signal,
        );
      } finally {
        res.end();
      }
    });
  };
}
