// An in-process swarm for control-plane tests: a manager and N workers (real mTLS, real Raft, real dispatcher
// sessions on loopback) with fake executors; the control routes are served by fastify's inject.
import { join } from 'node:path';
import { createLogger, type Task } from '../../api/index.js';
import { controlRoutes } from '../../manager/index.js';
import { createHttpServer } from '../../node/http/server.js';
import { SwarmMembership } from '../../node/swarm/membership.js';
import { FakeExecutor, type FakeExecutorOptions } from '../../worker/index.js';
import { freePort } from './net.js';
import { tempDir } from './temp.js';

export const quiet = createLogger({}, () => undefined);

export async function until<T>(fn: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A manager (which also runs tasks) and `workers` workers, all with fake executors. */
export async function serviceCluster(workers: number, fake: FakeExecutorOptions = {}) {
  const dir = tempDir();
  const nodes: { swarm: SwarmMembership; executor: FakeExecutor; id: string }[] = [];
  const port = await freePort();
  const managerExec = new FakeExecutor(fake);
  await managerExec.start();
  const manager = { swarm: new SwarmMembership(join(dir.path, 'm'), quiet, managerExec), id: '' };
  manager.id = await manager.swarm.init({
    ListenAddr: `127.0.0.1:${port}`,
    AdvertiseAddr: '127.0.0.1',
    Spec: { Dispatcher: { HeartbeatPeriod: 300e6 } },
    // Tests never use the default 10.0.0.0/8 pool.
    DefaultAddrPool: ['198.19.0.0/16'],
    SubnetSize: 24,
  });
  nodes.push({ swarm: manager.swarm, executor: managerExec, id: manager.id });
  const tokens = manager.swarm.swarm().JoinTokens;
  /** Joins one more node with its own fake executor: a worker, or a manager (also running tasks). */
  const join_ = async (role: 'worker' | 'manager') => {
    const executor = new FakeExecutor(fake);
    await executor.start();
    const swarm = new SwarmMembership(join(dir.path, `n${nodes.length}`), quiet, executor);
    await swarm.join({
      ListenAddr: `127.0.0.1:${await freePort()}`,
      AdvertiseAddr: '127.0.0.1',
      RemoteAddrs: [`127.0.0.1:${port}`],
      JoinToken: role === 'manager' ? tokens.Manager : tokens.Worker,
    });
    const node = { swarm, executor, id: swarm.info().NodeID };
    nodes.push(node);
    return node;
  };
  const addWorker = () => join_('worker');
  const addManager = () => join_('manager');
  for (let i = 0; i < workers; i++) await addWorker();
  const store = manager.swarm.store();
  const api = createHttpServer(quiet, [controlRoutes(() => store)]);
  const tasks = (serviceId: string): Task[] => store.view((tx) => tx.find('task', 'service', serviceId));
  const running = (serviceId: string) =>
    tasks(serviceId).filter((t) => t.Status.State === 'running' && t.DesiredState === 'running');
  const ready = () =>
    until(
      () =>
        store.view((tx) => tx.all('node')).filter((n) => n.Status.State === 'ready').length === nodes.length,
      10_000,
      `${nodes.length} ready nodes`,
    );
  /** Creates a service through the API; returns its id. */
  const createService = async (spec: object): Promise<string> => {
    const res = await api.inject({ method: 'POST', url: '/services/create', payload: spec });
    if (res.statusCode !== 201) throw new Error(`service create: ${res.statusCode} ${res.body}`);
    return res.json<{ ID: string }>().ID;
  };
  const stop = async () => {
    for (const n of [...nodes].reverse()) await n.swarm.stop();
    dir.remove();
  };
  return { nodes, store, api, tasks, running, ready, createService, addWorker, addManager, stop };
}
