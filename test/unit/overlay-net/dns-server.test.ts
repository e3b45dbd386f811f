// The embedded DNS server over real UDP sockets on loopback: scoped answers by source address, forwarding to
// (fake) upstreams with fallback and SERVFAIL, the in-flight bound, and garbage that must not hurt it.
import test, { type ExecutionContext } from 'ava';
import dgram from 'node:dgram';
import {
  buildQuery,
  buildResponse,
  DnsServer,
  parseMessage,
  parseQuery,
  parseResolvConf,
  parseUpstream,
  RCODE,
  TYPE,
  type DnsMessage,
  type DnsServerOptions,
} from '../../../overlay-net/dns/index.js';

const SCOPE = {
  clients: ['127.0.0.1'],
  names: { web: ['198.19.1.2'], 'tasks.web': ['198.19.1.3', '198.19.1.4'] },
};

function bindSocket(t: ExecutionContext, address: string): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  let closed = false;
  sock.on('close', () => (closed = true));
  t.teardown(() => (closed ? undefined : new Promise<void>((resolve) => sock.close(() => resolve()))));
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, address, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

type UpstreamMode = 'answer' | 'silent' | 'servfail' | 'mismatched';

/**
 * A fake resolver on 127.0.0.3: answers every A query with 198.19.9.9, or stays silent, or fails, or first sends
 * responses that do not match the query (wrong ID, wrong question, not a response) and then the right one.
 */
async function fakeUpstream(t: ExecutionContext, mode: UpstreamMode) {
  const sock = await bindSocket(t, '127.0.0.3');
  const seen: { id: number; name: string; type: number }[] = [];
  sock.on('message', (msg, rinfo) => {
    const query = parseQuery(msg);
    seen.push({ id: query.header.id, name: query.question.name, type: query.question.type });
    if (mode === 'silent') return;
    if (mode === 'mismatched') {
      const wrongId = { ...query, header: { ...query.header, id: (query.header.id + 1) & 0xffff } };
      sock.send(
        buildResponse({ query: wrongId, rcode: 0, addresses: ['198.19.6.6'] }),
        rinfo.port,
        rinfo.address,
      );
      const other = parseQuery(buildQuery({ id: query.header.id, name: 'other.example' }));
      sock.send(
        buildResponse({ query: other, rcode: 0, addresses: ['198.19.6.7'] }),
        rinfo.port,
        rinfo.address,
      );
      sock.send(msg, rinfo.port, rinfo.address); // the query itself, QR clear
      sock.send(Buffer.from([1, 2, 3]), rinfo.port, rinfo.address);
    }
    const answer = mode !== 'servfail' && query.question.type === TYPE.A;
    const rcode = mode === 'servfail' ? RCODE.SERVFAIL : RCODE.NOERROR;
    sock.send(
      buildResponse({ query, rcode, addresses: answer ? ['198.19.9.9'] : [], ttl: 30 }),
      rinfo.port,
      rinfo.address,
    );
  });
  return { spec: `127.0.0.3:${sock.address().port}`, seen };
}

async function startServer(t: ExecutionContext, o: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  const server = new DnsServer({
    address: '127.0.0.1',
    port: 0,
    upstreams: [],
    upstreamTimeoutMs: 300,
    ...o,
  });
  await server.start();
  t.teardown(() => server.stop());
  server.setScopes([SCOPE]);
  return server;
}

/** A client socket bound to a given source address; `ask` resolves with the response to one ID. */
async function client(t: ExecutionContext, server: DnsServer, source = '127.0.0.1') {
  const sock = await bindSocket(t, source);
  const waiting = new Map<number, (m: Buffer) => void>();
  sock.on('message', (msg) => {
    const id = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
    waiting.get(id)?.(msg);
    waiting.delete(id);
  });
  const send = (buf: Buffer): void => {
    sock.send(buf, server.port, '127.0.0.1');
  };
  /** Sends `buf` and waits for a response with ID `id`; undefined when none comes within `ms`. */
  const exchange = (buf: Buffer, id: number, ms = 1500): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(undefined);
      }, ms);
      waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      send(buf);
    });
  let nextId = 100;
  const ask = async (name: string, type = TYPE.A): Promise<DnsMessage> => {
    const id = nextId++;
    const res = await exchange(buildQuery({ id, name, type }), id);
    if (!res) throw new Error(`no response to ${name}`);
    return parseMessage(res);
  };
  return { send, exchange, ask };
}

const addresses = (m: DnsMessage): string[] => m.answers.map((a) => a.address ?? '?');

test('A query for a name in scope: NOERROR, RA, not authoritative, TTL 600, ID and question echoed', async (t) => {
  const up = await fakeUpstream(t, 'answer');
  const server = await startServer(t, { upstreams: [up.spec] });
  t.not(server.port, 0);
  const c = await client(t, server);
  const res = await c.ask('web');
  t.is(res.header.id, 100);
  t.true(res.header.qr);
  t.true(res.header.ra);
  t.false(res.header.aa);
  t.is(res.header.rcode, RCODE.NOERROR);
  t.is(res.questions[0].name, 'web');
  t.deepEqual(addresses(res), ['198.19.1.2']);
  t.deepEqual(
    res.answers.map((a) => [a.name, a.type, a.ttl]),
    [['web', TYPE.A, 600]],
  );
  t.deepEqual(up.seen, []);
});

test('tasks.<service>: every address, in shuffled order across queries', async (t) => {
  const server = await startServer(t);
  const c = await client(t, server);
  const orders = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await c.ask('tasks.web');
    t.deepEqual(addresses(res).sort(), ['198.19.1.3', '198.19.1.4']);
    orders.add(addresses(res).join(','));
  }
  t.is(orders.size, 2);
});

test('names match case-insensitively and with a trailing dot; the question keeps its case', async (t) => {
  const server = await startServer(t);
  const c = await client(t, server);
  const res = await c.ask('WeB.');
  t.deepEqual(addresses(res), ['198.19.1.2']);
  t.is(res.questions[0].name, 'WeB');
  t.is(res.answers[0].name, 'WeB');
  t.deepEqual(addresses(await c.ask('TASKS.web')).sort(), ['198.19.1.3', '198.19.1.4']);
});

test('AAAA (or any other type) for a name in scope: NOERROR without answers, nothing forwarded', async (t) => {
  const up = await fakeUpstream(t, 'answer');
  const server = await startServer(t, { upstreams: [up.spec] });
  const c = await client(t, server);
  for (const type of [TYPE.AAAA, TYPE.MX, TYPE.TXT]) {
    const res = await c.ask('web', type);
    t.is(res.header.rcode, RCODE.NOERROR);
    t.is(res.answers.length, 0);
    t.is(res.questions[0].type, type);
  }
  t.deepEqual(up.seen, []);
});

test('a client in several scopes gets their names merged', async (t) => {
  const server = await startServer(t);
  server.setScopes([
    SCOPE,
    {
      clients: ['127.0.0.1', '127.0.0.9'],
      names: { db: ['198.19.4.1'], 'tasks.web': ['198.19.4.2', '198.19.1.3'] },
    },
  ]);
  const c = await client(t, server);
  t.deepEqual(addresses(await c.ask('db')), ['198.19.4.1']);
  t.deepEqual(addresses(await c.ask('web')), ['198.19.1.2']);
  t.deepEqual(addresses(await c.ask('tasks.web')).sort(), ['198.19.1.3', '198.19.1.4', '198.19.4.2']);
});

test('another source address gets no scoped answer: the query is forwarded and relayed with its own ID', async (t) => {
  const up = await fakeUpstream(t, 'answer');
  const server = await startServer(t, { upstreams: [up.spec] });
  const other = await client(t, server, '127.0.0.2');
  const res = await other.ask('web');
  t.is(res.header.id, 100);
  t.is(res.header.rcode, RCODE.NOERROR);
  t.deepEqual(addresses(res), ['198.19.9.9']);
  t.is(res.answers[0].ttl, 30);
  t.deepEqual(
    up.seen.map((s) => s.name),
    ['web'],
  );

  // Names outside the scope are forwarded for scoped clients too.
  const c = await client(t, server);
  t.deepEqual(addresses(await c.ask('example.org')), ['198.19.9.9']);
  t.deepEqual(addresses(await c.ask('web')), ['198.19.1.2']);
  t.is(up.seen.length, 2);
});

test('setScopes replaces all scopes: a removed name is forwarded', async (t) => {
  const up = await fakeUpstream(t, 'answer');
  const server = await startServer(t, { upstreams: [up.spec] });
  const c = await client(t, server);
  t.deepEqual(addresses(await c.ask('web')), ['198.19.1.2']);
  server.setScopes([{ clients: ['127.0.0.1'], names: { web: ['198.19.1.7'], 'tasks.web': [] } }]);
  t.deepEqual(addresses(await c.ask('web')), ['198.19.1.7']);
  t.deepEqual(addresses(await c.ask('tasks.web')), ['198.19.9.9']); // no addresses: absent, like Docker
  server.setScopes([]);
  t.deepEqual(addresses(await c.ask('web')), ['198.19.9.9']);
});

test('an upstream that never answers: SERVFAIL once the timeout passes', async (t) => {
  const up = await fakeUpstream(t, 'silent');
  const server = await startServer(t, { upstreams: [up.spec], upstreamTimeoutMs: 200 });
  const c = await client(t, server, '127.0.0.2');
  const started = Date.now();
  const res = await c.ask('example.org');
  const elapsed = Date.now() - started;
  t.is(res.header.rcode, RCODE.SERVFAIL);
  t.is(res.header.id, 100);
  t.is(res.questions[0].name, 'example.org');
  t.true(elapsed >= 150 && elapsed < 1000, `elapsed ${elapsed} ms`);
  t.is(up.seen.length, 1);
});

test('the next upstream is asked after a timeout, a SERVFAIL, or an unreachable one', async (t) => {
  const silent = await fakeUpstream(t, 'silent');
  const failing = await fakeUpstream(t, 'servfail');
  const good = await fakeUpstream(t, 'answer');
  const closed = await bindSocket(t, '127.0.0.3');
  const closedPort = closed.address().port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const server = await startServer(t, {
    upstreams: [`127.0.0.3:${closedPort}`, silent.spec, failing.spec, good.spec],
    upstreamTimeoutMs: 150,
  });
  const c = await client(t, server, '127.0.0.2');
  t.deepEqual(addresses(await c.ask('example.org')), ['198.19.9.9']);
  t.is(silent.seen.length, 1);
  t.is(failing.seen.length, 1);
  t.is(good.seen.length, 1);

  const onlyFailing = await startServer(t, {
    upstreams: [failing.spec, silent.spec],
    upstreamTimeoutMs: 150,
  });
  const c2 = await client(t, onlyFailing, '127.0.0.2');
  t.is((await c2.ask('example.org')).header.rcode, RCODE.SERVFAIL);
});

test('upstream packets that do not answer the forwarded query are ignored', async (t) => {
  const up = await fakeUpstream(t, 'mismatched');
  const server = await startServer(t, { upstreams: [up.spec] });
  const c = await client(t, server, '127.0.0.2');
  const res = await c.ask('example.org');
  t.is(res.header.rcode, RCODE.NOERROR);
  t.deepEqual(addresses(res), ['198.19.9.9']);
  t.is(res.questions[0].name, 'example.org');
});

test('no upstreams: SERVFAIL at once', async (t) => {
  const server = await startServer(t, { upstreams: [], upstreamTimeoutMs: 5000 });
  const c = await client(t, server, '127.0.0.2');
  const started = Date.now();
  t.is((await c.ask('example.org')).header.rcode, RCODE.SERVFAIL);
  t.true(Date.now() - started < 1000);
});

test('forwards in flight are bounded: beyond the limit SERVFAIL comes at once', async (t) => {
  const up = await fakeUpstream(t, 'silent');
  const server = await startServer(t, {
    upstreams: [up.spec],
    upstreamTimeoutMs: 800,
    maxPendingForwards: 2,
  });
  const c = await client(t, server, '127.0.0.2');
  const started = Date.now();
  const times: Record<number, number> = {};
  const all = [1, 2, 3, 4].map(async (id) => {
    const res = await c.exchange(buildQuery({ id, name: `n${id}.example.org` }), id, 3000);
    times[id] = Date.now() - started;
    return res ? parseMessage(res).header.rcode : -1;
  });
  t.deepEqual(await Promise.all(all), [RCODE.SERVFAIL, RCODE.SERVFAIL, RCODE.SERVFAIL, RCODE.SERVFAIL]);
  t.true(times[3] < 500 && times[4] < 500, JSON.stringify(times));
  t.true(times[1] >= 700 && times[2] >= 700, JSON.stringify(times));
  t.is(up.seen.length, 2);
  // The slots are free again: the next query is forwarded.
  t.is(
    await c.exchange(buildQuery({ id: 5, name: 'n5.example.org' }), 5, 3000).then((r) => r && r.length > 0),
    true,
  );
  t.is(up.seen.length, 3);
});

test('garbage does not hurt the server: short packets dropped, FORMERR, NOTIMP, responses ignored', async (t) => {
  const server = await startServer(t);
  const c = await client(t, server);
  // Shorter than a header (the response, if any, would have to carry this "ID").
  t.is(await c.exchange(Buffer.from([0x12, 0x34, 0x01]), 0x1234, 200), undefined);
  c.send(Buffer.alloc(0));
  // Header readable, body not: FORMERR with the ID.
  const noQuestion = Buffer.alloc(12);
  noQuestion.writeUInt16BE(0x0a0b, 0);
  let res = await c.exchange(noQuestion, 0x0a0b);
  t.is(res && parseMessage(res).header.rcode, RCODE.FORMERR);
  const loop = Buffer.from([0x0a, 0x0c, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  res = await c.exchange(loop, 0x0a0c);
  t.is(res && parseMessage(res).header.rcode, RCODE.FORMERR);
  t.is(res && parseMessage(res).header.qdcount, 0);
  const cut = buildQuery({ id: 0x0a0d, name: 'web' }).subarray(0, 16);
  res = await c.exchange(cut, 0x0a0d);
  t.is(res && parseMessage(res).header.rcode, RCODE.FORMERR);
  // Opcode other than QUERY: NOTIMP.
  const notify = buildQuery({ id: 0x0a0e, name: 'web' });
  notify[2] |= 4 << 3;
  res = await c.exchange(notify, 0x0a0e);
  t.is(res && parseMessage(res).header.rcode, RCODE.NOTIMP);
  // A response sent to the server is never answered.
  const response = buildQuery({ id: 0x0a0f, name: 'web' });
  response[2] |= 0x80;
  t.is(await c.exchange(response, 0x0a0f, 200), undefined);
  // EDNS version 1: BADVERS.
  const v1 = buildQuery({ id: 0x0a10, name: 'web', ednsUdpSize: 1232 });
  v1[v1.length - 5] = 1;
  res = await c.exchange(v1, 0x0a10);
  t.is(res && parseMessage(res).edns?.extendedRcode, 1);
  // Random noise, then the server still answers.
  for (let i = 0; i < 200; i++) {
    const junk = Buffer.alloc(1 + Math.floor(Math.random() * 100));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(Math.random() * 256);
    junk[2] &= 0x7f; // a query, so the server may answer it
    c.send(junk);
  }
  t.deepEqual(addresses(await c.ask('web')), ['198.19.1.2']);
});

test('a bind failure rejects with a clear error; stop is idempotent', async (t) => {
  const first = await startServer(t);
  const second = new DnsServer({ address: '127.0.0.1', port: first.port, upstreams: [] });
  await t.throwsAsync(second.start(), {
    message: new RegExp(`cannot bind UDP 127.0.0.1:${first.port}: .*EADDRINUSE`),
  });
  await second.stop();
  await first.stop();
  await first.stop();
  t.throws(() => new DnsServer({ address: 'localhost' }), { message: /must be IPv4/ });
  t.throws(() => new DnsServer({ address: '127.0.0.1', upstreams: ['nope'] }), {
    message: /invalid DNS upstream/,
  });
});

test('stop cancels pending forwards: no answer is sent after it and it returns promptly', async (t) => {
  const up = await fakeUpstream(t, 'silent');
  const server = await startServer(t, { upstreams: [up.spec], upstreamTimeoutMs: 5000 });
  const c = await client(t, server, '127.0.0.2');
  const pending = c.exchange(buildQuery({ id: 77, name: 'example.org' }), 77, 600);
  while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
  const started = Date.now();
  await server.stop();
  t.true(Date.now() - started < 500);
  t.is(await pending, undefined);
});

test('upstream specs and resolv.conf', (t) => {
  t.deepEqual(parseUpstream('127.0.0.3'), { host: '127.0.0.3', port: 53, family: 'udp4' });
  t.deepEqual(parseUpstream('127.0.0.3:5353'), { host: '127.0.0.3', port: 5353, family: 'udp4' });
  t.deepEqual(parseUpstream('::1'), { host: '::1', port: 53, family: 'udp6' });
  t.deepEqual(parseUpstream('[0:0::1]:5300'), { host: '::1', port: 5300, family: 'udp6' });
  t.throws(() => parseUpstream('127.0.0.3:0'), { message: /bad port/ });
  t.throws(() => parseUpstream('127.0.0.3:99999'), { message: /bad port/ });
  t.throws(() => parseUpstream('dns.example'), { message: /want "ip" or "ip:port"/ });
  const conf = [
    '# generated',
    'nameserver 127.0.0.53',
    'nameserver   198.19.0.1  # second',
    ';nameserver 198.19.0.2',
    'search example.org',
    'nameserver ::1',
    'nameserver bogus',
    'options edns0',
  ].join('\n');
  t.deepEqual(parseResolvConf(conf), ['127.0.0.53', '198.19.0.1', '::1']);
});
