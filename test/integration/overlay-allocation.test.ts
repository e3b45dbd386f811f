// Overlay allocation through the control plane in one process (real Raft, mTLS, dispatcher; fake executors):
// a network and a service on it with a published port get their addresses, VIPs and port; each node is told
// the views its tasks need; a new leader would find it all in the store; removal gives everything back.
import test from 'ava';
import type { Network, Service } from '../../api/index.js';
import { serviceCluster as cluster, until } from '../support/service-cluster.js';

test('a service on an overlay network: task addresses, VIPs, a published port and each node’s views; removal frees them', async (t) => {
  t.timeout(90_000);
  const c = await cluster(2);
  try {
    await c.ready();
    const net = await c.api.inject({
      method: 'POST',
      url: '/networks/create',
      payload: { Name: 'appnet', Driver: 'overlay', IPAM: { Config: [{ Subnet: '198.19.50.0/24' }] } },
    });
    t.is(net.statusCode, 201, net.body);
    const netId = net.json<{ Id: string }>().Id;
    const id = await c.createService({
      Name: 'web',
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] },
        Networks: [{ Target: 'appnet' }],
      },
      Mode: { Replicated: { Replicas: 3 } },
      EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] },
    });
    await until(() => c.running(id).length === 3, 15_000, '3 running tasks');

    const svc = c.store.view((tx) => tx.get('service', id)) as Service;
    const ingress = c.store.view((tx) => tx.all('network')).find((n: Network) => n.Spec.Ingress)!;
    t.truthy(ingress, 'ingress made at init');
    t.deepEqual(
      svc.Endpoint?.Ports?.map((p) => p.PublishedPort),
      [8080],
    );
    t.deepEqual(svc.Endpoint?.VirtualIPs?.map((v) => v.NetworkID).sort(), [ingress.ID, netId].sort());
    const vip = svc.Endpoint!.VirtualIPs!.find((v) => v.NetworkID === netId)!.Addr.split('/')[0]!;
    t.regex(vip, /^198\.19\.50\.\d+$/);

    // Every task: ingress first, then appnet, one distinct address on each.
    const addrs = c.running(id).map((task) => {
      t.deepEqual(
        task.NetworksAttachments?.map((a) => a.Network.ID),
        [ingress.ID, netId],
      );
      return task.NetworksAttachments![1]!.Addresses[0]!.split('/')[0]!;
    });
    t.is(new Set([...addrs, vip]).size, 4);

    // Each node's executor holds the views: appnet with the service's VIP and its 3 running backends.
    await until(
      () =>
        c.nodes.every((n) => {
          const v = n.executor.networks.find((x) => x.id === netId);
          return v?.services.find((s) => s.name === 'web')?.backends.length === 3;
        }),
      10_000,
      'views with 3 backends on every node',
    );
    for (const n of c.nodes) {
      const views = n.executor.networks;
      const app = views.find((x) => x.id === netId)!;
      t.is(app.services.find((s) => s.name === 'web')!.vip, vip);
      t.deepEqual(
        app.services
          .find((s) => s.name === 'web')!
          .backends.map((b) => b.ip)
          .sort(),
        [...addrs].sort(),
      );
      t.truthy(views.find((x) => x.ingress)?.nodeAddress, 'a load-balancer address on ingress');
    }

    // The port is taken; the network is in use.
    const clash = await c.api.inject({
      method: 'POST',
      url: '/services/create',
      payload: {
        Name: 'other',
        TaskTemplate: { ContainerSpec: { Image: 'busybox:local' } },
        EndpointSpec: { Ports: [{ TargetPort: 81, PublishedPort: 8080 }] },
      },
    });
    t.is(clash.statusCode, 400);
    t.regex(clash.json<{ message: string }>().message, /port '8080' is already in use by service 'web'/);
    const busy = await c.api.inject({ method: 'DELETE', url: '/networks/appnet' });
    t.is(busy.statusCode, 409);

    // Removal: tasks go, the views empty out, the network can go.
    t.is((await c.api.inject({ method: 'DELETE', url: `/services/${id}` })).statusCode, 200);
    await until(
      () => c.nodes.every((n) => !n.executor.networks.some((x) => x.id === netId)),
      15_000,
      'appnet gone from every node’s views',
    );
    // Its tasks may take a moment to be gone from the store; then the network can go.
    let removed = 0;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && removed !== 204;) {
      removed = (await c.api.inject({ method: 'DELETE', url: '/networks/appnet' })).statusCode;
      if (removed !== 204) await new Promise((r) => setTimeout(r, 200));
    }
    t.is(removed, 204);
    t.false(c.store.view((tx) => tx.all('network')).some((n: Network) => n.ID === netId));
    // The allocator holds nothing of it any more: only the nodes' ingress load-balancer addresses.
    await until(
      () => {
        const u = c.nodes[0]!.swarm.allocatorUsage();
        return u?.tasks === 0 && !(netId in u.addresses);
      },
      10_000,
      'the allocator to let go of appnet',
    );
    const usage = c.nodes[0]!.swarm.allocatorUsage()!;
    t.deepEqual(usage.ports, {});
    t.is(usage.services, 0);
    t.deepEqual(Object.keys(usage.addresses), [ingress.ID]);
    t.is(usage.addresses[ingress.ID]!.length, 3, 'one load-balancer address per node');
  } finally {
    await c.stop();
  }
});
