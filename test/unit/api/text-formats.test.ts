import test from 'ava';
import { formatDuration, parseDuration, parseReference, familiarString, newId } from '../../../api/index.js';

test('Go durations parse and format', (t) => {
  t.is(parseDuration('5s'), 5e9);
  t.is(parseDuration('1m30s'), 90e9);
  t.is(parseDuration('1h2m3.5s'), 3723.5e9);
  t.is(parseDuration('300ms'), 3e8);
  t.is(parseDuration('10us'), 1e4);
  t.is(parseDuration('0'), 0);
  t.is(parseDuration('-2s'), -2e9);
  t.throws(() => parseDuration('5'), { message: 'invalid duration "5"' });
  t.throws(() => parseDuration('abc'), { message: /invalid duration/ });
  t.is(formatDuration(5e9), '5s');
  t.is(formatDuration(90e9), '1m30s');
  t.is(formatDuration(3723.5e9), '1h2m3.5s');
  t.is(formatDuration(3e8), '300ms');
  t.is(formatDuration(0), '0s');
});

test('image references normalise as Docker does', (t) => {
  t.deepEqual(parseReference('busybox'), {
    domain: 'docker.io',
    path: 'library/busybox',
    tag: 'latest',
    digest: undefined,
  });
  t.deepEqual(parseReference('127.0.0.1:5000/tss/bb:1.0'), {
    domain: '127.0.0.1:5000',
    path: 'tss/bb',
    tag: '1.0',
    digest: undefined,
  });
  t.is(parseReference('localhost/x').domain, 'localhost');
  t.is(parseReference('user/app').path, 'user/app');
  const d = 'sha256:' + 'a'.repeat(64);
  t.is(parseReference(`busybox@${d}`).digest, d);
  t.is(parseReference(`busybox@${d}`).tag, undefined);
  t.is(familiarString(parseReference('busybox:local')), 'busybox:local');
  t.is(familiarString(parseReference('127.0.0.1:5000/a')), '127.0.0.1:5000/a:latest');
  t.throws(() => parseReference('Busybox'), { message: /must be lowercase/ });
  t.throws(() => parseReference('bad image'), { message: /invalid reference format/ });
  t.throws(() => parseReference('a:b:c:'), { message: /invalid reference format/ });
  t.throws(() => parseReference(''), { message: /invalid reference format/ });
  t.throws(() => parseReference('busybox@sha256:xyz'), { message: /bad digest/ });
});

test('ids are 25 base36 characters and distinct', (t) => {
  const a = newId();
  t.regex(a, /^[0-9a-z]{25}$/);
  t.not(a, newId());
  t.is(
    newId(() => Buffer.alloc(16)),
    '0'.repeat(25),
  );
});
