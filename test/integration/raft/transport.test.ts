import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { GrpcTransport, type Message } from '../../../raft/index.js';
import { createLogger } from '../../../api/index.js';

test('a 200 MiB snapshot streams in chunks and arrives intact; the sender learns it succeeded', async (t) => {
  t.timeout(60_000);
  const quiet = createLogger({}, () => undefined);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const receiver = new GrpcTransport({ credentials: grpc.credentials.createInsecure(), log: quiet });
  let got: Message | undefined;
  receiver.register(server, {
    onMessage: (m) => (got = m),
    onUnreachable: () => undefined,
    onSnapshotStatus: () => undefined,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const sender = new GrpcTransport({ credentials: grpc.credentials.createInsecure(), log: quiet });
  const status = new Promise<boolean>((resolve) =>
    sender.register(new grpc.Server(), {
      onMessage: () => undefined,
      onUnreachable: () => undefined,
      onSnapshotStatus: (_id, ok) => resolve(ok),
    }),
  );
  try {
    sender.setPeer('b', `127.0.0.1:${port}`);
    const data = Buffer.alloc(200 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    const digest = createHash('sha256').update(data).digest('hex');
    const before = process.memoryUsage().arrayBuffers;
    sender.send([
      {
        type: 'snap',
        from: 'a',
        to: 'b',
        term: 3,
        logTerm: 0,
        index: 0,
        commit: 0,
        snapshot: { meta: { index: 1000, term: 3, conf: { voters: ['a', 'b'], learners: [] } }, data },
      },
    ]);
    t.true(await status);
    t.is(got!.snapshot!.meta.index, 1000);
    t.is(createHash('sha256').update(got!.snapshot!.data).digest('hex'), digest);
    // The sender's copy existed before; the receiver adds one buffer of the snapshot's size plus chunks in flight.
    const grown = process.memoryUsage().arrayBuffers - before;
    t.true(grown < 1.5 * data.length, `array buffers grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    sender.stop();
    server.forceShutdown();
  }
});
