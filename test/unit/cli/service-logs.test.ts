// `tsswarm service logs` formatting: frames back to lines, details to "web.1.<task id>@node    | line".
import test from 'ava';
import {
  FrameReader,
  formatLogLine,
  parseDetails,
  sinceParameter,
  splitLogPayload,
  taskLabel,
} from '../../../cli/service/log-lines.js';
import { logFrame, type LogMessage } from '../../../manager/logs/index.js';

const msg: LogMessage = {
  nodeId: 'nodeid1',
  serviceId: 'svcid1',
  taskId: 'abcdefghijklmnopqrstuvwxy',
  time: '2026-12-02T17:21:23.123456789Z',
  stream: 'stdout',
  data: 'line 1 with spaces\n',
};

test('parseDetails decodes query-escaped k=v pairs', (t) => {
  t.deepEqual(
    [...parseDetails('a=1,b=x+y%2Cz')],
    [
      ['a', '1'],
      ['b', 'x y,z'],
    ],
  );
  t.is(parseDetails('').size, 0);
  t.throws(() => parseDetails('novalue'));
});

test('a frame written by the manager splits back into timestamp, details and message', (t) => {
  const frames: [number, string][] = [];
  const reader = new FrameReader((s, p) => frames.push([s, p.toString()]));
  const a = logFrame(msg, { timestamps: true, details: true });
  const b = logFrame({ ...msg, stream: 'stderr', data: 'oops\n' }, { timestamps: true, details: true });
  const all = Buffer.concat([a, b]);
  // Delivered in awkward chunks: inside a header, inside a payload.
  reader.push(all.subarray(0, 5));
  reader.push(all.subarray(5, a.length + 3));
  reader.push(all.subarray(a.length + 3));
  t.deepEqual(
    frames.map(([s]) => s),
    [1, 2],
  );
  const line = splitLogPayload(frames[0]![1], true);
  t.is(line.timestamp, '2026-12-02T17:21:23.123456789Z');
  t.is(line.details.get('com.docker.swarm.task.id'), msg.taskId);
  t.is(line.details.get('com.docker.swarm.node.id'), 'nodeid1');
  t.is(line.message, 'line 1 with spaces\n');
  const noTs = splitLogPayload(
    logFrame(msg, { timestamps: false, details: true }).subarray(8).toString(),
    false,
  );
  t.is(noTs.timestamp, undefined);
  t.is(noTs.message, 'line 1 with spaces\n');
  t.throws(() => splitLogPayload('nospace', false), { message: /invalid context/ });
});

test('taskLabel: service.slot.<12-char task id>@node, padded to the widest slot', (t) => {
  const base = { serviceName: 'web', taskId: msg.taskId, nodeName: 'w1', padding: 2 };
  t.is(taskLabel({ ...base, slot: 3 }), 'web.3.abcdefghijkl@w1 ');
  t.is(taskLabel({ ...base, slot: 10 }), 'web.10.abcdefghijkl@w1');
  t.is(taskLabel({ ...base, slot: 1, noTaskIds: true, padding: 1 }), 'web.1@w1');
  t.is(taskLabel({ ...base, slot: 1, noTrunc: true, padding: 1 }), `web.1.${msg.taskId}@w1`);
  t.is(taskLabel({ ...base, nodeId: 'nodeid1', padding: 1 }), 'web.nodeid1.abcdefghijkl@w1');
});

test('formatLogLine puts the timestamp first, then the label and "    | "', (t) => {
  const line = splitLogPayload(
    logFrame(msg, { timestamps: true, details: true }).subarray(8).toString(),
    true,
  );
  t.is(
    formatLogLine('web.1.abcdefghijkl@w1', line),
    '2026-12-02T17:21:23.123456789Z web.1.abcdefghijkl@w1    | line 1 with spaces\n',
  );
  t.is(formatLogLine('web.1@w1', { ...line, timestamp: undefined }), 'web.1@w1    | line 1 with spaces\n');
});

test('sinceParameter: timestamps pass through, durations become unix seconds ago', (t) => {
  t.is(sinceParameter('1700000000'), '1700000000');
  t.is(sinceParameter('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00Z');
  t.is(sinceParameter('10m', 1_000_000_000), (1_000_000 - 600).toFixed(9));
});
