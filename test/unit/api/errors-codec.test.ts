import test from 'ava';
import {
  Conflict,
  InvalidArgument,
  NotFound,
  NotManager,
  PermissionDenied,
  Unavailable,
  decode,
  encode,
  errorFromKind,
  grpcCodeOf,
  httpStatusOf,
  NOT_MANAGER_MESSAGE,
} from '../../../api/index.js';

test('errors map once to HTTP statuses', (t) => {
  t.is(httpStatusOf(new NotFound('service web not found')), 404);
  t.is(httpStatusOf(new Conflict('update out of sequence')), 409);
  t.is(httpStatusOf(new InvalidArgument('bad')), 400);
  t.is(httpStatusOf(new Unavailable('no leader')), 503);
  t.is(httpStatusOf(new PermissionDenied('invalid join token')), 403);
  t.is(httpStatusOf(new NotManager()), 503);
  t.is(httpStatusOf(new Error('boom')), 500);
  t.is(new NotManager().message, NOT_MANAGER_MESSAGE);
});

test('errors survive a trip through their kind and map to gRPC codes', (t) => {
  const e = errorFromKind('NotFound', 'node x not found');
  t.true(e instanceof Error);
  t.is(e.kind, 'NotFound');
  t.is(httpStatusOf(e), 404);
  t.is(grpcCodeOf(e), 5);
  t.is(errorFromKind('Bogus', 'x').kind, 'Internal');
});

test('codec round-trips objects, buffers and large integers', (t) => {
  const v = {
    ID: 'abc',
    Version: { Index: 42 },
    Grace: 10_000_000_000,
    Data: Buffer.from([1, 2, 3]),
    L: ['a', null],
  };
  const out = decode<typeof v>(encode(v));
  t.is(out.ID, 'abc');
  t.is(out.Version.Index, 42);
  t.is(out.Grace, 10_000_000_000);
  t.deepEqual(Buffer.from(out.Data), Buffer.from([1, 2, 3]));
  t.deepEqual(out.L, ['a', null]);
  // Frames are self-contained: a fresh decode of the same bytes gives the same value.
  const bytes = encode({ a: 1 });
  t.deepEqual(decode(bytes), decode(Buffer.from(bytes)));
});
