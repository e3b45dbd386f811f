// DNS wire format: queries and responses round-trip, compression pointers are followed (and loops refused),
// truncation keeps responses inside the client's UDP size, and malformed packets fail with DnsFormatError.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import {
  buildHeaderResponse,
  buildQuery,
  buildResponse,
  CLASS_IN,
  DnsFormatError,
  labelsToName,
  nameToLabels,
  parseHeader,
  parseHeaderAndQuestion,
  parseMessage,
  parseQuery,
  RCODE,
  readName,
  TYPE,
  withId,
} from '../../../overlay-net/dns/index.js';

/** Header octets: id, flags, then the four counts. */
function header(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): number[] {
  return [id >> 8, id & 255, flags >> 8, flags & 255, 0, qd, 0, an, 0, ns, 0, ar];
}

function label(s: string): number[] {
  return [s.length, ...Buffer.from(s, 'latin1')];
}

test('query round trip: ID, RD, name, type and class; a trailing dot is the same name', (t) => {
  const q = parseQuery(buildQuery({ id: 0xbeef, name: 'tasks.web.', type: TYPE.AAAA }));
  t.is(q.header.id, 0xbeef);
  t.false(q.header.qr);
  t.true(q.header.rd);
  t.is(q.header.opcode, 0);
  t.is(q.question.name, 'tasks.web');
  t.deepEqual(
    q.question.labels.map((l) => l.toString()),
    ['tasks', 'web'],
  );
  t.is(q.question.type, TYPE.AAAA);
  t.is(q.question.class, CLASS_IN);
  t.is(q.edns, undefined);

  const plain = buildQuery({ id: 1, name: 'web', rd: false });
  t.is(plain.length, 12 + 5 + 4);
  t.false(parseQuery(plain).header.rd);
  t.is(parseQuery(plain).question.type, TYPE.A);
});

test('query with an OPT record: EDNS UDP size, version and DO are read', (t) => {
  const q = parseQuery(buildQuery({ id: 7, name: 'web', ednsUdpSize: 4096 }));
  t.deepEqual(q.edns, { udpSize: 4096, version: 0, do: false, extendedRcode: 0 });
  const m = parseMessage(buildQuery({ id: 7, name: 'web', ednsUdpSize: 1400 }));
  t.is(m.additionals.length, 1);
  t.is(m.additionals[0].type, TYPE.OPT);
  t.is(m.additionals[0].name, '');
});

test('A response: question echoed with its case, one A record per address, RA set, AA not, RD echoed', (t) => {
  const query = parseQuery(buildQuery({ id: 0x1234, name: 'TaSkS.Web' }));
  const res = parseMessage(
    buildResponse({ query, rcode: RCODE.NOERROR, addresses: ['198.19.1.3', '198.19.1.4'], ttl: 600 }),
  );
  t.is(res.header.id, 0x1234);
  t.true(res.header.qr);
  t.true(res.header.ra);
  t.true(res.header.rd);
  t.false(res.header.aa);
  t.false(res.header.tc);
  t.is(res.header.rcode, RCODE.NOERROR);
  t.deepEqual(
    res.questions.map((q) => [q.name, q.type, q.class]),
    [['TaSkS.Web', TYPE.A, CLASS_IN]],
  );
  t.deepEqual(
    res.answers.map((a) => [a.name, a.type, a.class, a.ttl, a.address]),
    [
      ['TaSkS.Web', TYPE.A, CLASS_IN, 600, '198.19.1.3'],
      ['TaSkS.Web', TYPE.A, CLASS_IN, 600, '198.19.1.4'],
    ],
  );
  t.is(res.edns, undefined);
});

test('empty NOERROR, SERVFAIL, and an OPT record echoed (with DO) when the query had one', (t) => {
  const query = parseQuery(buildQuery({ id: 9, name: 'web', type: TYPE.AAAA }));
  const empty = parseMessage(buildResponse({ query, rcode: RCODE.NOERROR, addresses: [], ttl: 600 }));
  t.is(empty.header.rcode, RCODE.NOERROR);
  t.is(empty.answers.length, 0);
  t.is(empty.questions[0].type, TYPE.AAAA);

  const fail = parseMessage(buildResponse({ query, rcode: RCODE.SERVFAIL }));
  t.is(fail.header.rcode, RCODE.SERVFAIL);
  t.is(fail.questions.length, 1);

  // DO bit set by hand in the query's OPT TTL field.
  const raw = buildQuery({ id: 10, name: 'web', ednsUdpSize: 4096 });
  raw[raw.length - 4] = 0x80;
  const edns = parseQuery(raw);
  t.true(edns.edns?.do);
  const res = parseMessage(buildResponse({ query: edns, rcode: RCODE.NOERROR, addresses: ['198.19.1.2'] }));
  t.is(res.answers.length, 1);
  t.is(res.edns?.version, 0);
  t.true(res.edns?.do);

  const badvers = parseMessage(buildResponse({ query: edns, rcode: RCODE.BADVERS }));
  t.is(badvers.header.rcode, 0);
  t.is(badvers.edns?.extendedRcode, 1); // 16 >> 4
});

test('answers that do not fit the client UDP size are dropped and TC is set', (t) => {
  const addresses = Array.from({ length: 40 }, (_, i) => `198.19.2.${i + 1}`);
  const plain = parseQuery(buildQuery({ id: 1, name: 'tasks.web' }));
  const buf = buildResponse({ query: plain, rcode: 0, addresses, ttl: 600 });
  t.true(buf.length <= 512);
  const res = parseMessage(buf);
  t.true(res.header.tc);
  t.is(res.answers.length, Math.floor((512 - 12 - 15) / 16));

  const big = parseQuery(buildQuery({ id: 1, name: 'tasks.web', ednsUdpSize: 4096 }));
  const all = parseMessage(buildResponse({ query: big, rcode: 0, addresses, ttl: 600 }));
  t.false(all.header.tc);
  t.is(all.answers.length, 40);

  // A client advertising less than 512 still gets 512.
  const small = parseQuery(buildQuery({ id: 1, name: 'tasks.web', ednsUdpSize: 100 }));
  t.true(buildResponse({ query: small, rcode: 0, addresses, ttl: 600 }).length > 100);
});

test('header-only responses (FORMERR, NOTIMP) echo ID, opcode and RD', (t) => {
  const h = parseHeader(Buffer.from(header(0xabcd, 0x2100, 0))); // opcode 4 (NOTIFY), RD
  const res = parseHeader(buildHeaderResponse(h, RCODE.NOTIMP));
  t.is(res.id, 0xabcd);
  t.true(res.qr);
  t.is(res.opcode, 4);
  t.true(res.rd);
  t.is(res.rcode, RCODE.NOTIMP);
  t.is(res.qdcount, 0);
  t.is(res.ancount, 0);
});

test('withId replaces only the ID, on a copy', (t) => {
  const q = buildQuery({ id: 1, name: 'web' });
  const r = withId(q, 0x4242);
  t.is(parseHeader(r).id, 0x4242);
  t.is(parseHeader(q).id, 1);
  t.deepEqual(r.subarray(2), q.subarray(2));
});

test('compression pointers in a hand-made response: owner names, chained pointers', (t) => {
  const bytes = [
    ...header(0x0102, 0x8180, 1, 3),
    // 12: question www.example.com A IN
    ...label('www'), // 12
    ...label('example'), // 16
    ...label('com'), // 24
    0, // 28
    0,
    1,
    0,
    1,
    // 33: answer 1, owner = pointer to 12 (www.example.com), A 198.19.3.1
    0xc0,
    12,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    198,
    19,
    3,
    1,
    // 49: answer 2, owner = "mail" + pointer to 16 (example.com)
    ...label('mail'),
    0xc0,
    16,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    198,
    19,
    3,
    2,
    // 70: answer 3, owner = "smtp" + pointer to 49 ("mail" + pointer to 16): a chain of two pointers
    ...label('smtp'),
    0xc0,
    49,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    198,
    19,
    3,
    3,
  ];
  const m = parseMessage(Buffer.from(bytes));
  t.is(m.questions[0].name, 'www.example.com');
  t.deepEqual(
    m.answers.map((a) => [a.name, a.address]),
    [
      ['www.example.com', '198.19.3.1'],
      ['mail.example.com', '198.19.3.2'],
      ['smtp.mail.example.com', '198.19.3.3'],
    ],
  );
  // readName reports where the name ends in place: just after the first pointer.
  t.is(readName(Buffer.from(bytes), 70).next, 77);
  t.is(readName(Buffer.from(bytes), 12).next, 29);
  t.deepEqual(parseHeaderAndQuestion(Buffer.from(bytes)).question?.name, 'www.example.com');
});

test('labels with dots, backslashes and non-printables are escaped in the presentation name', (t) => {
  t.is(labelsToName([Buffer.from('tasks.web'), Buffer.from('a\\b c')]), 'tasks\\.web.a\\\\b\\032c');
  t.is(labelsToName([]), '');
  const bytes = [...header(1, 0, 1), 9, ...Buffer.from('tasks.web'), 0, 0, 1, 0, 1];
  t.is(parseQuery(Buffer.from(bytes)).question.name, 'tasks\\.web');
});

test('names to labels: trailing dot, root, and invalid names', (t) => {
  t.deepEqual(
    nameToLabels('a.b.').map((l) => l.toString()),
    ['a', 'b'],
  );
  t.deepEqual(nameToLabels('.'), []);
  t.throws(() => nameToLabels('a..b'), { message: /empty label/ });
  t.throws(() => nameToLabels('x'.repeat(64)), { message: /longer than 63/ });
  t.throws(() => nameToLabels(Array.from({ length: 50 }, () => 'abcde').join('.')), { message: /255/ });
});

function formatError(t: ExecutionContext, bytes: number[] | Buffer, message: RegExp, withHeader = true) {
  const err = t.throws(() => parseQuery(Buffer.from(bytes)), { instanceOf: DnsFormatError, message });
  t.is(err?.header !== undefined, withHeader, `header readable: ${String(err?.message)}`);
}

test('malformed: too short, wrong question count, cut-off names and fields, trailing octets', (t) => {
  formatError(t, [], /too short: 0 octets/, false);
  formatError(t, [1, 2, 3, 4, 5], /too short: 5 octets/, false);
  formatError(t, header(1, 0, 0), /exactly one question, it has 0/);
  formatError(t, [...header(1, 0, 2), 0, 0, 1, 0, 1, 0, 0, 1, 0, 1], /exactly one question, it has 2/);
  formatError(t, header(1, 0, 1), /runs past the end/);
  formatError(t, [...header(1, 0, 1), 5, 0x61, 0x62], /label at offset 12 runs past the end/);
  formatError(t, [...header(1, 0, 1), ...label('web')], /runs past the end/);
  formatError(t, [...header(1, 0, 1), ...label('web'), 0, 0, 1], /cut off before its type and class/);
  formatError(
    t,
    [...header(1, 0, 1), ...label('web'), 0, 0, 1, 0, 1, 0xff],
    /1 octets after its last record/,
  );
  formatError(t, [...header(1, 0, 1, 0, 0, 1), ...label('web'), 0, 0, 1, 0, 1, 0, 0, 41], /fixed fields/);
  formatError(
    t,
    [...header(1, 0, 1, 0, 0, 1), ...label('web'), 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1],
    /runs past the end/,
  );
  formatError(
    t,
    [...header(1, 0, 1, 1), ...label('web'), 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3],
    /A record at offset 21 has 3 octets/,
  );
});

test('malformed: pointer loops, forward pointers, reserved label types, over-long names', (t) => {
  // A pointer to itself.
  formatError(t, [...header(1, 0, 1), 0xc0, 12, 0, 1, 0, 1], /pointer at offset 12 points to 12.*loop/);
  // A pointer forward.
  formatError(t, [...header(1, 0, 1), 0xc0, 14, 0, 0, 1, 0, 1], /points to 14/);
  // A label and then a pointer back to that label: every pointer points backwards, yet the walk would repeat.
  formatError(t, [...header(1, 0, 1), ...label('abc'), 0xc0, 12, 0, 1, 0, 1], /points to 12, not before 12/);
  // The same in an answer's owner name.
  const loop = [...header(1, 0, 1, 1), ...label('web'), 0, 0, 1, 0, 1, ...label('x'), 0xc0, 21];
  loop.push(0, 1, 0, 1, 0, 0, 0, 0, 0, 0);
  t.throws(() => parseMessage(Buffer.from(loop)), {
    instanceOf: DnsFormatError,
    message: /pointer at offset 23/,
  });
  // A pointer cut off at the end.
  formatError(t, [...header(1, 0, 1), 0xc0], /pointer at offset 12 is cut off/);
  // 0x40 and 0x80 label types.
  formatError(t, [...header(1, 0, 1), 0x41, 0, 0, 1, 0, 1], /label type 0x40/);
  formatError(t, [...header(1, 0, 1), 0x81, 0, 0, 1, 0, 1], /label type 0x80/);
  // 5 labels of 63 octets: 320 octets.
  const long = Array.from({ length: 5 }, () => label('x'.repeat(63))).flat();
  formatError(t, [...header(1, 0, 1), ...long, 0, 0, 1, 0, 1], /longer than 255 octets/);
  // Exactly 255 octets is fine: 3×(1+63) + (1+61) + 1.
  const max = [...Array.from({ length: 3 }, () => label('y'.repeat(63))).flat(), ...label('z'.repeat(61)), 0];
  t.is(parseQuery(Buffer.from([...header(1, 0, 1), ...max, 0, 1, 0, 1])).question.labels.length, 4);
});

test('malformed: OPT records that break the rules', (t) => {
  const q = buildQuery({ id: 1, name: 'web', ednsUdpSize: 1232 });
  const opt = q.subarray(q.length - 11);
  const two = Buffer.concat([q, opt]);
  two.writeUInt16BE(2, 10);
  formatError(t, two, /more than one OPT/);
  const named = Buffer.concat([q.subarray(0, q.length - 11), Buffer.from([1, 0x61]), opt]);
  formatError(t, named, /OPT record with a name/);
  const inAnswer = Buffer.from(q);
  inAnswer.writeUInt16BE(1, 6);
  inAnswer.writeUInt16BE(0, 10);
  formatError(t, inAnswer, /outside the additional section/);
});

test('fuzz: arbitrary octets and mutated queries only ever fail with DnsFormatError', (t) => {
  const check = (buf: Buffer): void => {
    try {
      parseMessage(buf);
      parseQuery(buf);
    } catch (err) {
      if (!(err instanceof DnsFormatError)) throw err;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => check(Buffer.from(bytes))),
    { numRuns: 3000 },
  );
  const base = buildQuery({ id: 5, name: 'tasks.web.example', ednsUdpSize: 1232 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(base.length),
      (edits, cut) => {
        const buf = Buffer.from(base);
        for (const [i, v] of edits) buf[i] = v;
        check(buf.subarray(0, cut));
        check(buf);
      },
    ),
    { numRuns: 3000 },
  );
  t.pass();
});
