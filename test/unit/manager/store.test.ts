import test from 'ava';
import { MemoryStore, batchUpdate, type StoreEvent, type WriteTx } from '../../../manager/store/index.js';
import { LogProposer, storeCluster } from '../../support/log-proposer.js';
import { Conflict, NotFound, InvalidArgument, type Service, type Task } from '../../../api/index.js';

function cluster(n = 1) {
  const { proposer: p, stores, store } = storeCluster(n, () => new Date('2026-01-01T00:00:00Z'));
  return { p, stores, store };
}

const svc = (id: string, name: string): Service => ({
  ID: id,
  Version: { Index: 0 },
  CreatedAt: '',
  UpdatedAt: '',
  Spec: { Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } },
});

const task = (id: string, serviceId: string, slot: number): Task => ({
  ID: id,
  Version: { Index: 0 },
  CreatedAt: '',
  UpdatedAt: '',
  Spec: {},
  ServiceID: serviceId,
  Slot: slot,
  Status: { Timestamp: '', State: 'new', Message: 'created' },
  DesiredState: 'running',
});

test('a transaction is applied on commit with the raft index as version', async (t) => {
  const { store } = cluster();
  const events = await store.update((tx) => tx.create('service', svc('s1', 'web')));
  t.is(events.length, 1);
  t.is(events[0]!.op, 'create');
  const s = store.view((v) => v.get('service', 's1'))!;
  t.is(s.Version.Index, 1);
  t.is(s.CreatedAt, '2026-01-01T00:00:00.000Z');
  t.is(store.view((v) => v.find('service', 'name', 'web'))[0]!.ID, 's1');
});

test('reads are copies: changing them does not change the store', async (t) => {
  const { store } = cluster();
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  const s = store.view((v) => v.get('service', 's1'))!;
  s.Spec.Name = 'changed';
  t.is(store.view((v) => v.get('service', 's1'))!.Spec.Name, 'web');
});

test('a stale version is refused with "update out of sequence"', async (t) => {
  const { store } = cluster();
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  const read = store.view((v) => v.get('service', 's1'))!;
  read.Spec.Labels = { a: '1' };
  await store.update((tx) => tx.update('service', read));
  read.Spec.Labels = { a: '2' };
  const err = await t.throwsAsync(
    store.update((tx) => tx.update('service', read)),
    { instanceOf: Conflict },
  );
  t.is(err.message, 'update out of sequence');
  t.deepEqual(store.view((v) => v.get('service', 's1'))!.Spec.Labels, { a: '1' });
});

test('two writers racing on the same version: exactly one wins at commit', async (t) => {
  const { store, p } = cluster();
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  // Both transactions are built against the same committed version before either commits.
  const a = store.newWriteTx();
  const b = store.newWriteTx();
  const ra = a.get('service', 's1')!;
  ra.Spec.Labels = { who: 'a' };
  a.update('service', ra);
  const rb = b.get('service', 's1')!;
  rb.Spec.Labels = { who: 'b' };
  b.update('service', rb);
  await store.propose(a);
  await t.throwsAsync(store.propose(b), { message: 'update out of sequence' });
  t.deepEqual(store.view((v) => v.get('service', 's1'))!.Spec.Labels, { who: 'a' });
  t.is(p.log.length, 3, 'the losing transaction is in the log but changed nothing');
});

test('unique names are enforced with Docker wording; a failed transaction changes nothing', async (t) => {
  const { store } = cluster();
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  await t.throwsAsync(
    store.update((tx) => tx.create('service', svc('s2', 'web'))),
    {
      instanceOf: Conflict,
      message: 'service web already exists',
    },
  );
  await t.throwsAsync(
    store.update((tx) => {
      tx.create('task', task('t1', 's1', 1));
      tx.delete('service', 'nope');
    }),
    { instanceOf: NotFound },
  );
  t.is(store.view((v) => v.all('task')).length, 0);
});

test('a transaction sees its own writes, including through indexes', async (t) => {
  const { store } = cluster();
  await store.update((tx) => {
    tx.create('service', svc('s1', 'web'));
    tx.create('task', task('t1', 's1', 1));
    tx.create('task', task('t2', 's1', 2));
    t.is(tx.find('task', 'service', 's1').length, 2);
    const t1 = tx.get('task', 't1')!;
    t1.DesiredState = 'shutdown';
    tx.update('task', t1);
    tx.delete('task', 't2');
    t.deepEqual(
      tx.find('task', 'service', 's1').map((x) => x.ID),
      ['t1'],
    );
    t.is(tx.find('task', 'desiredState', 'shutdown').length, 1);
    t.is(
      tx.count('task', 'service', 's1', (x) => x.DesiredState === 'shutdown'),
      1,
    );
  });
  const shutdown = (x: Readonly<Task>) => x.DesiredState === 'shutdown';
  t.is(
    store.view((v) => v.count('task', 'service', 's1', shutdown)),
    1,
  );
  t.is(
    store.view((v) => v.count('task', 'service', 's1', () => true)),
    1,
  );
  t.is(
    store.view((v) => v.count('task', 'service', 'nope', () => true)),
    0,
  );
  t.is(store.view((v) => v.get('task', 't1'))!.DesiredState, 'shutdown');
  t.is(
    store.view((v) => v.get('task', 't2')),
    undefined,
  );
});

test('watchers see committed changes in order', async (t) => {
  const { store } = cluster();
  const seen: StoreEvent[] = [];
  const stop = store.watch((evs) => seen.push(...evs));
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  await store.update((tx) => tx.delete('service', 's1'));
  stop();
  await store.update((tx) => tx.create('service', svc('s2', 'api')));
  t.deepEqual(
    seen.map((e) => `${e.op}:${e.obj.ID}@${e.index}`),
    ['create:s1@1', 'delete:s1@2'],
  );
});

test('replicas applying the same log have identical state; snapshots restore it', async (t) => {
  const { stores } = cluster(3);
  await stores[0]!.update((tx) => tx.create('service', svc('s1', 'web')));
  await stores[1]!.update((tx) => tx.create('task', task('t1', 's1', 1)));
  const snaps = stores.map((s) => Buffer.from(s.snapshot()).toString('hex'));
  t.is(snaps[0], snaps[1]);
  t.is(snaps[1], snaps[2]);
  const fresh = new MemoryStore({ proposer: { propose: async () => ({ index: 0 }) } });
  fresh.restore(stores[0]!.snapshot());
  t.is(fresh.lastApplied, 2);
  t.is(fresh.view((v) => v.find('task', 'service', 's1')).length, 1);
  t.is(fresh.view((v) => v.get('service', 's1'))!.Spec.Name, 'web');
});

test('oversized transactions are refused; the batch helper splits by the cap', async (t) => {
  const { store, p } = cluster();
  await store.update((tx) => tx.create('service', svc('s1', 'web')));
  await t.throwsAsync(
    store.update((tx) => {
      for (let i = 0; i < 201; i++) tx.create('task', task(`t${i}`, 's1', i));
    }),
    { instanceOf: InvalidArgument, message: /maximum 200/ },
  );
  const before = p.log.length;
  const units = Array.from({ length: 1000 }, (_, i) => (tx: WriteTx) => {
    tx.create('task', task(`t${i}`, 's1', i + 1));
  });
  const events = await batchUpdate(store, units, 200);
  t.is(events.length, 1000);
  t.is(p.log.length - before, 5);
  t.is(store.view((v) => v.find('task', 'service', 's1')).length, 1000);
});

test('a transaction that loses a race at commit time is rebuilt from the new state; a caller version check still fails', async (t) => {
  const inner = new LogProposer();
  let race: (() => Promise<unknown>) | undefined;
  const racing = {
    propose: async (data: Uint8Array) => {
      const r = race;
      race = undefined;
      if (r) await r();
      return inner.propose(data);
    },
  };
  const a = new MemoryStore({ proposer: racing });
  const b = new MemoryStore({ proposer: inner });
  inner.replicas.push(a, b);
  await a.update((tx) => tx.create('service', svc('s1', 'web')));
  const label = (store: MemoryStore, key: string) =>
    store.update((tx) => {
      const s = tx.get('service', 's1')!;
      s.Spec.Labels = { ...s.Spec.Labels, [key]: '1' };
      tx.update('service', s);
    });
  race = () => label(b, 'b');
  await label(a, 'a');
  t.deepEqual(a.view((v) => v.get('service', 's1'))!.Spec.Labels, { b: '1', a: '1' });
  // As the API does: the client's version is checked inside the transaction, so a lost race is a 409.
  const seen = a.view((v) => v.get('service', 's1'))!.Version.Index;
  race = () => label(b, 'b2');
  await t.throwsAsync(
    a.update((tx) => {
      const s = tx.get('service', 's1')!;
      if (s.Version.Index !== seen) throw new Conflict('update out of sequence');
      s.Spec.Labels = { late: '1' };
      tx.update('service', s);
    }),
    { instanceOf: Conflict, message: 'update out of sequence' },
  );
});
