// GET /events in one process: a manager, a follower manager and a worker (real mTLS, Raft, dispatcher on
// loopback; fake executors), each serving its node's events on a UNIX socket. The follower streams the swarm
// events of changes it replicates, the leader replays a past window, the worker has none, and clients that
// go away free their subscriptions.
import test from 'ava';
import http from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../api/index.js';
import { controlRoutes, eventRoutes } from '../../manager/index.js';
import type { EventMessage } from '../../manager/events/index.js';
import { createHttpServer } from '../../node/http/server.js';
import { SwarmMembership } from '../../node/swarm/membership.js';
import { FakeExecutor } from '../../worker/index.js';
import { freePort } from '../support/net.js';
import { tempDir } from '../support/temp.js';

const quiet = createLogger({}, () => undefined);

async function until<T>(fn: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Member {
  swarm: SwarmMembership;
  executor: FakeExecutor;
  socket: string;
  app: FastifyInstance;
}

async function cluster() {
  const dir = tempDir();
  const members: Member[] = [];
  const port = await freePort();
  const add = async (name: string, start: (s: SwarmMembership) => Promise<unknown>) => {
    const executor = new FakeExecutor();
    await executor.start();
    const swarm = new SwarmMembership(join(dir.path, name), quiet, executor);
    const socket = join(dir.path, `${name}.sock`);
    const app = createHttpServer(quiet, [eventRoutes(swarm.events)]);
    const m = { swarm, executor, socket, app };
    members.push(m);
    await start(swarm);
    await app.listen({ path: socket });
    return m;
  };
  const stop = async () => {
    for (const m of [...members].reverse()) {
      await m.app.close();
      await m.swarm.stop();
      await m.executor.stop();
    }
    dir.remove();
  };
  try {
    const leader = await add('m0', (s) =>
      s.init({
        ListenAddr: `127.0.0.1:${port}`,
        AdvertiseAddr: '127.0.0.1',
        Spec: { Dispatcher: { HeartbeatPeriod: 300e6 } },
      }),
    );
    const tokens = leader.swarm.swarm().JoinTokens;
    const join_ = async (name: string, token: string) =>
      add(name, async (s) =>
        s.join({
          ListenAddr: `127.0.0.1:${await freePort()}`,
          AdvertiseAddr: '127.0.0.1',
          RemoteAddrs: [`127.0.0.1:${port}`],
          JoinToken: token,
        }),
      );
    const follower = await join_('m1', tokens.Manager);
    const worker = await join_('w0', tokens.Worker);
    const api = createHttpServer(quiet, [controlRoutes(() => leader.swarm.store())]);
    return { leader, follower, worker, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An open GET /events: the events read so far, and how to end it from the client side. */
function stream(socket: string, query: string) {
  const events: EventMessage[] = [];
  let rest = '';
  let ended = false;
  let headers: http.IncomingHttpHeaders | undefined;
  let status = 0;
  const req = http.get({ socketPath: socket, path: `/v1.50/events${query}` }, (res) => {
    status = res.statusCode ?? 0;
    headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      rest += c;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        events.push(JSON.parse(rest.slice(0, nl)) as EventMessage);
        rest = rest.slice(nl + 1);
      }
    });
    res.on('end', () => (ended = true));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return {
    events,
    get ended() {
      return ended;
    },
    get status() {
      return status;
    },
    get headers() {
      return headers;
    },
    close: () => req.destroy(),
  };
}

const filters = (f: object) => `filters=${encodeURIComponent(JSON.stringify(f))}`;

test('a follower streams service create, update and remove; the leader replays the window; a worker has no swarm events', async (t) => {
  t.timeout(60_000);
  const c = await cluster();
  const streams: ReturnType<typeof stream>[] = [];
  try {
    const since = Date.now() / 1000;
    const followed = stream(c.follower.socket, `?${filters({ type: { service: true } })}`);
    const onWorker = stream(c.worker.socket, '');
    streams.push(followed, onWorker);
    await until(() => followed.headers && onWorker.headers, 5000, 'the streams to open');
    t.is(followed.status, 200);
    t.is(followed.headers!['content-type'], 'application/json');

    const spec = {
      Name: 'web',
      TaskTemplate: { ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] } },
      Mode: { Replicated: { Replicas: 1 } },
    };
    const created = await c.api.inject({ method: 'POST', url: '/services/create', payload: spec });
    t.is(created.statusCode, 201, created.body);
    const id = created.json<{ ID: string }>().ID;
    const version = c.leader.swarm.store().view((tx) => tx.get('service', id))!.Version.Index;
    const updated = await c.api.inject({
      method: 'POST',
      url: `/services/${id}/update?version=${version}`,
      payload: { ...spec, Mode: { Replicated: { Replicas: 2 } } },
    });
    t.is(updated.statusCode, 200, updated.body);
    const removed = await c.api.inject({ method: 'DELETE', url: `/services/${id}` });
    t.is(removed.statusCode, 200, removed.body);

    await until(
      () => followed.events.some((e) => e.Action === 'remove'),
      10_000,
      'the removal on the follower',
    );
    const seen = followed.events.filter((e) => e.Actor.ID === id);
    t.true(
      followed.events.every((e) => e.Type === 'service' && e.scope === 'swarm'),
      'only service events',
    );
    t.is(seen[0]!.Action, 'create');
    t.deepEqual(seen[0]!.Actor.Attributes, { name: 'web' });
    const scaled = seen.find((e) => e.Action === 'update' && e.Actor.Attributes['replicas.new'] === '2');
    t.truthy(scaled, JSON.stringify(seen));
    t.is(scaled!.Actor.Attributes['replicas.old'], '1');
    t.is(seen.at(-1)!.Action, 'remove');
    t.true(seen.every((e) => e.time >= Math.floor(since) && e.timeNano >= Math.floor(since) * 1e9));

    // The leader replays the window that has passed, then ends the response.
    const upTo = Date.now() / 1000 + 0.001;
    const replay = stream(
      c.leader.socket,
      `?since=${since.toFixed(3)}&until=${upTo.toFixed(3)}&${filters({ service: { web: true } })}`,
    );
    streams.push(replay);
    await until(() => replay.ended, 5000, 'the replay to end');
    t.deepEqual(
      replay.events.map((e) => [e.Type, e.Action, e.Actor.ID]),
      seen.map((e) => [e.Type, e.Action, e.Actor.ID]),
    );
    t.is(c.leader.swarm.events.subscriberCount, 0, 'a past window holds no subscription');

    // Node events: the joined nodes were created and became ready.
    const nodes = stream(
      c.leader.socket,
      `?since=0&until=${upTo.toFixed(3)}&${filters({ type: { node: true } })}`,
    );
    streams.push(nodes);
    await until(() => nodes.ended, 5000, 'the node replay to end');
    const joined = [c.follower, c.worker].map((m) => m.swarm.info().NodeID);
    for (const nodeId of joined) {
      t.true(
        nodes.events.some((e) => e.Actor.ID === nodeId && e.Action === 'create'),
        `node ${nodeId} created`,
      );
    }
    t.true(nodes.events.some((e) => e.Actor.Attributes['state.new'] === 'ready'));

    // A worker holds no replica: its stream is open and carries no swarm events.
    t.false(onWorker.ended);
    t.deepEqual(onWorker.events, []);
    t.is(c.worker.swarm.events.attachedStores, 0);
    t.is(c.follower.swarm.events.attachedStores, 1);
  } finally {
    for (const s of streams) s.close();
    await c.stop();
  }
});

test('clients going away free their subscriptions (100 cycles); a stream ends when until passes', async (t) => {
  t.timeout(60_000);
  const c = await cluster();
  try {
    const store = c.follower.swarm.store();
    const hub = c.follower.swarm.events;
    const watches = store.watchCount;
    for (let i = 0; i < 100; i++) {
      const s = stream(c.follower.socket, i % 2 ? '' : `?since=0&${filters({ type: { service: true } })}`);
      await until(() => s.headers, 5000, `stream ${i} to open`);
      s.close();
    }
    await until(() => hub.subscriberCount === 0, 5000, 'every subscription to be freed');
    t.is(store.watchCount, watches, 'no store watch added by streams');
    t.is(hub.attachedStores, 1);

    // With `until` ahead, the stream delivers live events and ends by itself when that time passes.
    const started = Date.now();
    const s = stream(c.follower.socket, `?until=${((started + 1500) / 1000).toFixed(3)}`);
    await until(() => s.headers, 5000, 'the stream to open');
    t.is(hub.subscriberCount, 1);
    const created = await c.api.inject({
      method: 'POST',
      url: '/secrets/create',
      payload: { Name: 'token', Data: Buffer.from('x').toString('base64') },
    });
    t.is(created.statusCode, 201, created.body);
    await until(() => s.ended, 5000, 'the stream to end at until');
    t.true(Date.now() - started >= 1400, 'not before until');
    t.true(
      s.events.some(
        (e) => e.Type === 'secret' && e.Action === 'create' && e.Actor.Attributes.name === 'token',
      ),
    );
    await until(() => hub.subscriberCount === 0, 5000, 'its subscription to be freed');
  } finally {
    await c.stop();
  }
});
