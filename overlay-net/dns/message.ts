// DNS messages on the wire (RFC 1035 section 4, EDNS(0) from RFC 6891): parse a query or a response, build the
// few responses the service-discovery server sends. Pure functions over Buffers; nothing here does I/O.
import { isIPv4 } from 'node:net';

export const HEADER_SIZE = 12;
/** Largest UDP payload without EDNS (RFC 1035 section 4.2.1). */
export const MIN_UDP_SIZE = 512;
/** Largest UDP payload this server puts in a response, and what it advertises in its OPT record. */
export const MAX_UDP_SIZE = 1232;
const MAX_NAME_OCTETS = 255;
const MAX_LABEL_OCTETS = 63;

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
};
export const CLASS_IN = 1;
export const OPCODE_QUERY = 0;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 };

export interface DnsHeader {
  id: number;
  /** Set in responses. */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** The low four bits only; EDNS's extended bits live in the OPT record. */
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  /** The raw labels as sent, case preserved (resolvers that randomise case expect it echoed). */
  labels: Buffer[];
  /** Presentation form without the trailing dot ("" for the root); '.', '\' and non-printables escaped. */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Buffer;
  /** For A records: the address in dotted form. */
  address?: string;
}

export interface DnsEdns {
  /** Requestor's UDP payload size as sent (may be below 512). */
  udpSize: number;
  version: number;
  /** The DNSSEC OK bit. */
  do: boolean;
  /** The upper eight bits of the 12-bit rcode. */
  extendedRcode: number;
}

export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** From the OPT pseudo-record, when the additional section has one. */
  edns?: DnsEdns;
}

export interface DnsQuery {
  header: DnsHeader;
  question: DnsQuestion;
  edns?: DnsEdns;
}

/** A packet that is not a well-formed DNS message. `header` is set when the first 12 octets could be read. */
export class DnsFormatError extends Error {
  readonly header?: DnsHeader;
  constructor(message: string, header?: DnsHeader) {
    super(message);
    this.name = 'DnsFormatError';
    this.header = header;
  }
}

export function parseHeader(buf: Buffer): DnsHeader {
  if (buf.length < HEADER_SIZE) {
    throw new DnsFormatError(
      `DNS message too short: ${buf.length} octets, the header alone is ${HEADER_SIZE}`,
    );
  }
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

/** Flags word of a header; rcode is taken modulo 16. */
function flagsWord(h: Omit<DnsHeader, 'id' | 'qdcount' | 'ancount' | 'nscount' | 'arcount'>): number {
  return (
    (h.qr ? 0x8000 : 0) |
    ((h.opcode & 0xf) << 11) |
    (h.aa ? 0x0400 : 0) |
    (h.tc ? 0x0200 : 0) |
    (h.rd ? 0x0100 : 0) |
    (h.ra ? 0x0080 : 0) |
    (h.ad ? 0x0020 : 0) |
    (h.cd ? 0x0010 : 0) |
    (h.rcode & 0xf)
  );
}

function writeHeader(buf: Buffer, h: DnsHeader): void {
  buf.writeUInt16BE(h.id, 0);
  buf.writeUInt16BE(flagsWord(h), 2);
  buf.writeUInt16BE(h.qdcount, 4);
  buf.writeUInt16BE(h.ancount, 6);
  buf.writeUInt16BE(h.nscount, 8);
  buf.writeUInt16BE(h.arcount, 10);
}

/** One label in presentation form: '.' and '\' backslash-escaped, anything outside printable ASCII as \DDD. */
function labelText(label: Buffer): string {
  let out = '';
  for (const c of label) {
    if (c === 0x2e || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\' + String(c).padStart(3, '0');
  }
  return out;
}

export function labelsToName(labels: Buffer[]): string {
  return labels.map(labelText).join('.');
}

/**
 * Reads a possibly compressed domain name starting at `offset`. Returns its labels and the offset just past the
 * name where it appears (after the first pointer when there is one).
 *
 * Every compression pointer must point strictly before the start of the run of labels it ends (the name's own
 * start, or the previous pointer's target). A genuine encoder only ever points back at a name written earlier,
 * which satisfies this, and it makes every pointer loop an error instead of an endless walk.
 */
export function readName(
  buf: Buffer,
  offset: number,
  header?: DnsHeader,
): { labels: Buffer[]; next: number } {
  const labels: Buffer[] = [];
  let pos = offset;
  let segmentStart = offset;
  let next = -1;
  let octets = 1; // the root label's length octet
  for (;;) {
    if (pos >= buf.length) {
      throw new DnsFormatError(`DNS name at offset ${offset} runs past the end of the message`, header);
    }
    const len = buf[pos];
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) {
        throw new DnsFormatError(`DNS compression pointer at offset ${pos} is cut off`, header);
      }
      const target = buf.readUInt16BE(pos) & 0x3fff;
      if (target >= segmentStart) {
        throw new DnsFormatError(
          `DNS compression pointer at offset ${pos} points to ${target}, not before ${segmentStart} (pointer loop)`,
          header,
        );
      }
      if (next < 0) next = pos + 2;
      pos = target;
      segmentStart = target;
      continue;
    }
    if (kind !== 0) {
      throw new DnsFormatError(
        `DNS label type 0x${kind.toString(16)} at offset ${pos} is not supported`,
        header,
      );
    }
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { labels, next };
    }
    if (pos + 1 + len > buf.length) {
      throw new DnsFormatError(`DNS label at offset ${pos} runs past the end of the message`, header);
    }
    octets += 1 + len;
    if (octets > MAX_NAME_OCTETS) {
      throw new DnsFormatError(
        `DNS name at offset ${offset} is longer than ${MAX_NAME_OCTETS} octets`,
        header,
      );
    }
    labels.push(buf.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

function readQuestion(buf: Buffer, offset: number, header: DnsHeader): { q: DnsQuestion; next: number } {
  const { labels, next } = readName(buf, offset, header);
  if (next + 4 > buf.length) {
    throw new DnsFormatError(`DNS question at offset ${offset} is cut off before its type and class`, header);
  }
  return {
    q: {
      labels,
      name: labelsToName(labels),
      type: buf.readUInt16BE(next),
      class: buf.readUInt16BE(next + 2),
    },
    next: next + 4,
  };
}

function readRecord(buf: Buffer, offset: number, header: DnsHeader): { rr: DnsRecord; next: number } {
  const { labels, next } = readName(buf, offset, header);
  if (next + 10 > buf.length) {
    throw new DnsFormatError(`DNS record at offset ${offset} is cut off in its fixed fields`, header);
  }
  const type = buf.readUInt16BE(next);
  const rdlength = buf.readUInt16BE(next + 8);
  const start = next + 10;
  if (start + rdlength > buf.length) {
    throw new DnsFormatError(
      `DNS record data at offset ${start} (${rdlength} octets) runs past the end`,
      header,
    );
  }
  const data = buf.subarray(start, start + rdlength);
  const rr: DnsRecord = {
    name: labelsToName(labels),
    type,
    class: buf.readUInt16BE(next + 2),
    ttl: buf.readUInt32BE(next + 4),
    data,
  };
  if (type === TYPE.A && rr.class === CLASS_IN) {
    if (rdlength !== 4)
      throw new DnsFormatError(`DNS A record at offset ${offset} has ${rdlength} octets`, header);
    rr.address = Array.from(data).join('.');
  }
  return { rr, next: start + rdlength };
}

function ednsOf(rr: DnsRecord, header: DnsHeader): DnsEdns {
  if (rr.name !== '') throw new DnsFormatError('DNS OPT record with a name other than the root', header);
  return {
    udpSize: rr.class,
    extendedRcode: rr.ttl >>> 24,
    version: (rr.ttl >>> 16) & 0xff,
    do: (rr.ttl & 0x8000) !== 0,
  };
}

/**
 * Parses a whole message: header, every section, and the OPT pseudo-record. Throws DnsFormatError (with the
 * header when it was readable) on anything malformed, including trailing octets after the last record.
 */
export function parseMessage(buf: Buffer): DnsMessage {
  const header = parseHeader(buf);
  const msg: DnsMessage = { header, questions: [], answers: [], authorities: [], additionals: [] };
  let pos = HEADER_SIZE;
  for (let i = 0; i < header.qdcount; i++) {
    const { q, next } = readQuestion(buf, pos, header);
    msg.questions.push(q);
    pos = next;
  }
  const sections: [number, DnsRecord[]][] = [
    [header.ancount, msg.answers],
    [header.nscount, msg.authorities],
    [header.arcount, msg.additionals],
  ];
  for (const [count, into] of sections) {
    for (let i = 0; i < count; i++) {
      const { rr, next } = readRecord(buf, pos, header);
      into.push(rr);
      pos = next;
    }
  }
  if (pos !== buf.length) {
    throw new DnsFormatError(`DNS message has ${buf.length - pos} octets after its last record`, header);
  }
  for (const rr of msg.additionals) {
    if (rr.type !== TYPE.OPT) continue;
    if (msg.edns) throw new DnsFormatError('DNS message has more than one OPT record', header);
    msg.edns = ednsOf(rr, header);
  }
  for (const rr of [...msg.answers, ...msg.authorities]) {
    if (rr.type === TYPE.OPT)
      throw new DnsFormatError('DNS OPT record outside the additional section', header);
  }
  return msg;
}

/** Parses a message that must carry exactly one question (what a query to this server is). */
export function parseQuery(buf: Buffer): DnsQuery {
  const header = parseHeader(buf);
  if (header.qdcount !== 1) {
    throw new DnsFormatError(`DNS query must have exactly one question, it has ${header.qdcount}`, header);
  }
  const msg = parseMessage(buf);
  return { header, question: msg.questions[0], edns: msg.edns };
}

/**
 * The header and the first question of a message, ignoring the rest: enough to match an upstream's response
 * to the query it answers without judging records this server never looks at.
 */
export function parseHeaderAndQuestion(buf: Buffer): { header: DnsHeader; question?: DnsQuestion } {
  const header = parseHeader(buf);
  if (header.qdcount === 0) return { header };
  return { header, question: readQuestion(buf, HEADER_SIZE, header).q };
}

/** Same name regardless of ASCII case (RFC 4343). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Wire labels of a dotted name; a trailing dot is allowed, escapes are not. */
export function nameToLabels(name: string): Buffer[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.').map((l) => Buffer.from(l, 'utf8'));
  let octets = 1;
  for (const l of labels) {
    if (l.length === 0) throw new Error(`invalid DNS name ${JSON.stringify(name)}: empty label`);
    if (l.length > MAX_LABEL_OCTETS) {
      throw new Error(
        `invalid DNS name ${JSON.stringify(name)}: a label is longer than ${MAX_LABEL_OCTETS} octets`,
      );
    }
    octets += 1 + l.length;
  }
  if (octets > MAX_NAME_OCTETS) {
    throw new Error(`invalid DNS name ${JSON.stringify(name)}: longer than ${MAX_NAME_OCTETS} octets`);
  }
  return labels;
}

function labelsSize(labels: Buffer[]): number {
  return labels.reduce((n, l) => n + 1 + l.length, 1);
}

function writeLabels(buf: Buffer, offset: number, labels: Buffer[]): number {
  let pos = offset;
  for (const l of labels) {
    buf[pos++] = l.length;
    l.copy(buf, pos);
    pos += l.length;
  }
  buf[pos++] = 0;
  return pos;
}

function writeQuestion(
  buf: Buffer,
  offset: number,
  q: Pick<DnsQuestion, 'labels' | 'type' | 'class'>,
): number {
  const pos = writeLabels(buf, offset, q.labels);
  buf.writeUInt16BE(q.type, pos);
  buf.writeUInt16BE(q.class, pos + 2);
  return pos + 4;
}

const OPT_SIZE = 11;

function writeOpt(
  buf: Buffer,
  offset: number,
  o: { udpSize: number; extendedRcode: number; do: boolean },
): number {
  buf[offset] = 0; // root name
  buf.writeUInt16BE(TYPE.OPT, offset + 1);
  buf.writeUInt16BE(o.udpSize, offset + 3);
  buf.writeUInt32BE(((o.extendedRcode & 0xff) << 24) | (o.do ? 0x8000 : 0), offset + 5); // version 0
  buf.writeUInt16BE(0, offset + 9); // no options
  return offset + OPT_SIZE;
}

export interface QueryOptions {
  id: number;
  name: string;
  type?: number;
  class?: number;
  /** Recursion desired; true by default as stub resolvers send it. */
  rd?: boolean;
  /** Adds an OPT record advertising this UDP payload size. */
  ednsUdpSize?: number;
}

export function buildQuery(o: QueryOptions): Buffer {
  const labels = nameToLabels(o.name);
  const buf = Buffer.alloc(
    HEADER_SIZE + labelsSize(labels) + 4 + (o.ednsUdpSize !== undefined ? OPT_SIZE : 0),
  );
  writeHeader(buf, {
    ...blankHeader(o.id),
    rd: o.rd ?? true,
    qdcount: 1,
    arcount: o.ednsUdpSize !== undefined ? 1 : 0,
  });
  const pos = writeQuestion(buf, HEADER_SIZE, { labels, type: o.type ?? TYPE.A, class: o.class ?? CLASS_IN });
  if (o.ednsUdpSize !== undefined)
    writeOpt(buf, pos, { udpSize: o.ednsUdpSize, extendedRcode: 0, do: false });
  return buf;
}

function blankHeader(id: number): DnsHeader {
  return {
    id,
    qr: false,
    opcode: OPCODE_QUERY,
    aa: false,
    tc: false,
    rd: false,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    qdcount: 0,
    ancount: 0,
    nscount: 0,
    arcount: 0,
  };
}

/** Largest response the client can take over UDP: 512 without EDNS, else its advertised size capped at ours. */
export function maxResponseSize(query: Pick<DnsQuery, 'edns'>): number {
  if (!query.edns) return MIN_UDP_SIZE;
  return Math.min(MAX_UDP_SIZE, Math.max(MIN_UDP_SIZE, query.edns.udpSize));
}

export interface ResponseOptions {
  /** The query answered: its ID, opcode, RD and CD flags and its question (original case) are echoed. */
  query: DnsQuery;
  /** 0..15, or BADVERS (16) which goes out through the OPT record. */
  rcode: number;
  /** IPv4 addresses, one A record each, all owned by the question's name. */
  addresses?: string[];
  ttl?: number;
  /** Override of maxResponseSize(query); answers that do not fit are dropped and TC is set. */
  maxSize?: number;
}

const A_RECORD_SIZE = 2 + 10 + 4; // compressed owner name, fixed fields, address

/**
 * A response to a parsed query: recursion available, not authoritative (as Docker's embedded server answers),
 * an OPT record when the query had one. Answers' owner names point back at the question.
 */
export function buildResponse(o: ResponseOptions): Buffer {
  const { query } = o;
  const addresses = o.addresses ?? [];
  for (const a of addresses) if (!isIPv4(a)) throw new Error(`not an IPv4 address: ${JSON.stringify(a)}`);
  const ttl = o.ttl ?? 0;
  const fixed = HEADER_SIZE + labelsSize(query.question.labels) + 4 + (query.edns ? OPT_SIZE : 0);
  const limit = o.maxSize ?? maxResponseSize(query);
  const fit = Math.max(0, Math.min(addresses.length, Math.floor((limit - fixed) / A_RECORD_SIZE)));
  const buf = Buffer.alloc(fixed + fit * A_RECORD_SIZE);
  writeHeader(buf, {
    ...blankHeader(query.header.id),
    qr: true,
    opcode: query.header.opcode,
    tc: fit < addresses.length,
    rd: query.header.rd,
    ra: true,
    cd: query.header.cd,
    rcode: o.rcode & 0xf,
    qdcount: 1,
    ancount: fit,
    arcount: query.edns ? 1 : 0,
  });
  let pos = writeQuestion(buf, HEADER_SIZE, query.question);
  for (const a of addresses.slice(0, fit)) {
    buf.writeUInt16BE(0xc000 | HEADER_SIZE, pos);
    buf.writeUInt16BE(TYPE.A, pos + 2);
    buf.writeUInt16BE(CLASS_IN, pos + 4);
    buf.writeUInt32BE(ttl, pos + 6);
    buf.writeUInt16BE(4, pos + 10);
    a.split('.').forEach((octet, i) => (buf[pos + 12 + i] = Number(octet)));
    pos += A_RECORD_SIZE;
  }
  if (query.edns) {
    writeOpt(buf, pos, { udpSize: MAX_UDP_SIZE, extendedRcode: o.rcode >> 4, do: query.edns.do });
  }
  return buf;
}

/**
 * A header-only response (FORMERR, NOTIMP) for a request whose header was readable but whose body was not
 * usable: echoes ID, opcode and RD, carries no question.
 */
export function buildHeaderResponse(request: DnsHeader, rcode: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  writeHeader(buf, {
    ...blankHeader(request.id),
    qr: true,
    opcode: request.opcode,
    rd: request.rd,
    ra: true,
    rcode,
  });
  return buf;
}

/** A copy of a message with its ID replaced (to relay an upstream's answer under the client's ID). */
export function withId(buf: Buffer, id: number): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt16BE(id, 0);
  return out;
}
