// `tsswarm events`: --since/--until as the docker CLI sends them, --filter, and the printed lines.
import test from 'ava';
import {
  eventFilters,
  prettyEvent,
  renderEvent,
  rfc3339NanoFixed,
  timestampParameter,
} from '../../../cli/commands/events.js';

test('--since/--until: durations ago, dates and RFC 3339 times, unix timestamps; junk is refused', (t) => {
  const now = Date.parse('2026-03-04T05:06:07.500Z');
  t.is(timestampParameter('10m', now), String(Math.floor(now / 1000) - 600));
  t.is(timestampParameter('1h30m', now), String(Math.floor(now / 1000) - 5400));
  t.is(timestampParameter('1700000000', now), '1700000000');
  t.is(timestampParameter('1700000000.25', now), '1700000000.25');
  t.is(timestampParameter('0', now), '0');
  t.is(
    timestampParameter('2026-03-04T05:06:07Z', now),
    `${Date.parse('2026-03-04T05:06:07Z') / 1000}.000000000`,
  );
  t.is(
    timestampParameter('2026-03-04T05:06:07.123456789+01:00', now),
    `${Math.floor(Date.parse('2026-03-04T04:06:07Z') / 1000)}.123456789`,
  );
  // No zone: local time, as the docker CLI.
  t.is(
    timestampParameter('2026-03-04', now),
    `${Math.floor(new Date(2026, 2, 4).getTime() / 1000)}.000000000`,
  );
  t.throws(() => timestampParameter('yesterday', now), {
    message: 'failed to parse value as time or duration: "yesterday"',
  });
});

test('--filter flags become the filters parameter; a flag without = is refused', (t) => {
  t.is(eventFilters([]), undefined);
  t.deepEqual(JSON.parse(eventFilters(['type=service', 'type=node', 'label=a=b'])!), {
    type: { service: true, node: true },
    label: { 'a=b': true },
  });
  t.throws(() => eventFilters(['service']), { message: /expected name=value/ });
});

test('events print as docker events prints them; json and templates', (t) => {
  const ns = 1_700_000_000_123_456_789n;
  const e = {
    Type: 'service',
    Action: 'update',
    Actor: { ID: 'abc', Attributes: { 'replicas.old': '1', name: 'web', 'replicas.new': '3' } },
    scope: 'swarm',
    time: 1_700_000_000,
    timeNano: Number(ns),
  };
  t.is(
    prettyEvent(e, ns),
    `${rfc3339NanoFixed(ns)} service update abc (name=web, replicas.new=3, replicas.old=1)`,
  );
  t.regex(rfc3339NanoFixed(ns), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.123456789(Z|[+-]\d\d:\d\d)$/);
  const raw = JSON.stringify(e).replace(/"timeNano":\d+/, `"timeNano":${ns}`);
  t.true(renderEvent(raw, undefined).includes('.123456789'), 'nanoseconds read from the text');
  t.is(renderEvent(raw, 'json'), raw);
  t.is(
    renderEvent(raw, '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Scope}}'),
    'service update web swarm',
  );
  t.is(prettyEvent({ Type: 'node', Action: 'remove', Actor: { ID: 'n1' } }), 'node remove n1');
});
