// A Raft KV member as its own process, controlled over HTTP on 127.0.0.1 (chaos and durability tests, bench).
// Config comes as JSON in TSS_KV: { id, dir, port, httpPort, members, snapshotEvery? }.
import http from 'node:http';
import { errorMessage } from '../../../api/index.js';
import { startKvNode } from '../../support/raft-kv.js';

const cfg = JSON.parse(process.env.TSS_KV!) as {
  id: string;
  dir: string;
  port: number;
  httpPort: number;
  members: { id: string; addr: string }[];
  snapshotEvery?: number;
};

const kv = await startKvNode({
  id: cfg.id,
  dir: cfg.dir,
  port: cfg.port,
  bootstrap: cfg.members,
  peers: cfg.members,
  snapshotEvery: cfg.snapshotEvery,
  tickMs: 20,
});

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const reply = (code: number, body: unknown) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/put') {
    kv.put(url.searchParams.get('key')!, url.searchParams.get('value')!).then(
      (r) => reply(200, r),
      (err) =>
        reply(503, {
          message: errorMessage(err),
          notLeader:
            (err as Error).name === 'Unavailable' && /not the leader|no leader/.test(errorMessage(err)),
        }),
    );
  } else if (url.pathname === '/get') {
    kv.node.readBarrier().then(
      () => reply(200, { value: kv.sm.data.get(url.searchParams.get('key')!) ?? null }),
      (err) => reply(503, { message: errorMessage(err) }),
    );
  } else if (url.pathname === '/status') {
    reply(200, kv.node.status());
  } else reply(404, { message: 'not found' });
});
server.keepAliveTimeout = 60_000;
server.listen(cfg.httpPort, '127.0.0.1', () => process.stdout.write('ready\n'));
