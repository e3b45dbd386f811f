// GET /events: newline-delimited JSON events, the kept ones of the `since`/`until` window first, then live
// ones until `until` passes or the client goes (which frees its subscription).
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { checkWindow, parseEventFilters, parseEventTime } from './filter.js';
import type { EventsHub } from './hub.js';
import type { EventMessage } from './message.js';

/** Content types a client may ask for in Accept (dockerd's jsonTypes); API < 1.52 answers application/json. */
const STREAM_TYPES = ['application/jsonl', 'application/x-ndjson'];
/** A client this far behind misses events (dockerd skips a subscriber that does not take one in time). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

function contentType(accept: string | undefined): string {
  const asked = (accept ?? '').split(',').map((a) => a.split(';')[0]!.trim());
  return asked.length === 1 && STREAM_TYPES.includes(asked[0]!) ? asked[0]! : 'application/json';
}

export function eventRoutes(hub: EventsHub) {
  return (app: FastifyInstance): void => {
    const streams = new Set<ServerResponse>();
    app.addHook('preClose', (done) => {
      for (const s of streams) s.destroy();
      done();
    });
    app.get('/events', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const since = parseEventTime(q.since, 'since');
      const until = parseEventTime(q.until, 'until');
      checkWindow(since, until, q);
      const filters = parseEventFilters(q.filters);
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const onlyPast = until !== undefined && until < nowNs;

      reply.hijack();
      const res = reply.raw;
      streams.add(res);
      res.writeHead(200, { 'content-type': contentType(req.headers.accept) });
      res.flushHeaders();
      const send = (m: EventMessage) => {
        if (res.writableLength > MAX_BUFFERED_BYTES || res.destroyed) return;
        res.write(`${JSON.stringify(m)}\n`);
      };
      if (onlyPast) {
        for (const m of hub.history({ since, until, filters })) send(m);
        streams.delete(res);
        res.end();
        return;
      }
      const sub = hub.subscribe({ since, until, filters }, send);
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        sub.unsubscribe();
        clearTimeout(timer);
        streams.delete(res);
      };
      res.once('close', finish);
      for (const m of sub.buffered) send(m);
      if (until !== undefined) {
        // The stream ends when `until` passes (timers are chained for a far `until`).
        const arm = () => {
          const left = Number((until - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
          if (left <= 0) {
            finish();
            res.end();
            return;
          }
          timer = setTimeout(arm, Math.min(left + 1, MAX_TIMER_MS));
        };
        arm();
      }
    });
  };
}
