// The node's embedded DNS server for service discovery, after Docker's: containers ask it for service and task
// names on the networks they are attached to; a name is answered only for the containers whose scope holds it,
// everything else is forwarded to the node's own resolvers. UDP only.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import {
  CLASS_IN,
  OPCODE_QUERY,
  RCODE,
  TYPE,
  buildHeaderResponse,
  buildResponse,
  parseHeader,
  parseHeaderAndQuestion,
  parseQuery,
  sameName,
  withId,
  type DnsQuery,
} from './message.js';

export interface DnsScope {
  /** Source IPv4 addresses of the clients this scope answers (a container's addresses). */
  clients: string[];
  /** Lower-case names without a trailing dot ("web", "tasks.web", "web.1.abc") → IPv4 addresses. */
  names: Record<string, string[]>;
}

export interface DnsLog {
  debug(msg: string, f?: object): void;
  warn(msg: string, f?: object): void;
}

export interface DnsServerOptions {
  /** IPv4 address to bind (UDP only). */
  address: string;
  /** Default 53; 0 picks a free port (read it back from `port`). */
  port?: number;
  /**
   * Resolvers, "ip" or "ip:port" ("[ip6]:port" for IPv6), asked for names outside the client's scope, in order.
   * When not given, the `nameserver` lines of /etc/resolv.conf are used.
   */
  upstreams?: string[];
  /** How long to wait for one upstream before asking the next; default 2000. */
  upstreamTimeoutMs?: number;
  /** Forwarded queries in flight at most; further ones get SERVFAIL at once. Default 256. */
  maxPendingForwards?: number;
  log?: DnsLog;
}

/** TTL of the records this server answers itself (Docker's embedded server uses 600 s). */
export const DNS_TTL = 600;
export const DEFAULT_DNS_PORT = 53;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
export const DEFAULT_MAX_PENDING_FORWARDS = 256;
const RESOLV_CONF = '/etc/resolv.conf';

export interface Upstream {
  /** Address as written, IPv6 in canonical form. */
  host: string;
  port: number;
  family: 'udp4' | 'udp6';
}

function canonicalIpv6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a; // e.g. with a zone index, which URL does not take
  }
}

function checkPort(p: string, spec: string): number {
  const port = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new Error(`invalid DNS upstream ${JSON.stringify(spec)}: bad port`);
  return port;
}

/** "1.2.3.4", "1.2.3.4:5353", "2001:db8::1", "[2001:db8::1]:5353". */
export function parseUpstream(spec: string): Upstream {
  const s = spec.trim();
  if (isIPv4(s)) return { host: s, port: DEFAULT_DNS_PORT, family: 'udp4' };
  if (isIPv6(s)) return { host: canonicalIpv6(s), port: DEFAULT_DNS_PORT, family: 'udp6' };
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6 && isIPv6(v6[1])) {
    const port = v6[2] === undefined ? DEFAULT_DNS_PORT : checkPort(v6[2], spec);
    return { host: canonicalIpv6(v6[1]), port, family: 'udp6' };
  }
  const v4 = /^([^:]+):(.*)$/.exec(s);
  if (v4 && isIPv4(v4[1])) return { host: v4[1], port: checkPort(v4[2], spec), family: 'udp4' };
  throw new Error(`invalid DNS upstream ${JSON.stringify(spec)}: want "ip" or "ip:port"`);
}

/** The addresses on `nameserver` lines, in order; comments and anything unparsable are skipped. */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const words = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (words[0] !== 'nameserver' || words.length < 2) continue;
    if (isIPv4(words[1]) || isIPv6(words[1])) out.push(words[1]);
  }
  return out;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

const NO_LOG: DnsLog = { debug: () => {}, warn: () => {} };

interface Client {
  address: string;
  port: number;
}

interface Forward {
  cancel(): void;
}

export class DnsServer {
  private readonly address: string;
  private readonly wantPort: number;
  private readonly configuredUpstreams?: Upstream[];
  private upstreams: Upstream[] = [];
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly log: DnsLog;
  private socket?: dgram.Socket;
  private boundPort?: number;
  /** Client source address → name → addresses, all scopes of the client merged. */
  private scopes = new Map<string, Map<string, string[]>>();
  private readonly forwards = new Set<Forward>();
  private overflowWarned = false;

  constructor(o: DnsServerOptions) {
    if (!isIPv4(o.address))
      throw new Error(`DNS server: bind address must be IPv4, got ${JSON.stringify(o.address)}`);
    const port = o.port ?? DEFAULT_DNS_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`DNS server: invalid port ${port}`);
    this.address = o.address;
    this.wantPort = port;
    this.configuredUpstreams = o.upstreams?.map(parseUpstream);
    this.timeoutMs = o.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.maxPending = o.maxPendingForwards ?? DEFAULT_MAX_PENDING_FORWARDS;
    this.log = o.log ?? NO_LOG;
  }

  /** The bound port once started; the configured one before. */
  get port(): number {
    return this.boundPort ?? this.wantPort;
  }

  async start(): Promise<void> {
    if (this.socket) throw new Error(`DNS server on ${this.address}:${this.port} is already started`);
    this.upstreams = this.configuredUpstreams ?? (await this.resolvConfUpstreams());
    const sock = dgram.createSocket({ type: 'udp4' });
    this.socket = sock;
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(this.wantPort, this.address, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.socket = undefined;
      try {
        sock.close();
      } catch {
        // already closed by the failed bind
      }
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`DNS server: cannot bind UDP ${this.address}:${this.wantPort}: ${why}`, { cause: err });
    }
    this.boundPort = sock.address().port;
    sock.on('error', (err) => this.log.warn('DNS server socket error', { error: err.message }));
    sock.on('message', (msg, rinfo) => {
      try {
        this.onMessage(msg, { address: rinfo.address, port: rinfo.port });
      } catch (err) {
        // Nothing a client sends may take the server down.
        this.log.warn('DNS server: failed to handle a packet', { from: rinfo.address, error: String(err) });
      }
    });
    this.log.debug('DNS server listening', { address: this.address, port: this.boundPort });
  }

  async stop(): Promise<void> {
    for (const f of [...this.forwards]) f.cancel();
    this.forwards.clear();
    const sock = this.socket;
    if (!sock) return;
    this.socket = undefined;
    this.boundPort = undefined;
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  /** Replaces all scopes at once. Names are matched case-insensitively; a name without addresses is absent. */
  setScopes(scopes: DnsScope[]): void {
    const next = new Map<string, Map<string, string[]>>();
    for (const scope of scopes) {
      for (const client of scope.clients) {
        let names = next.get(client);
        if (!names) next.set(client, (names = new Map()));
        for (const [rawName, addrs] of Object.entries(scope.names)) {
          const name = normalizeName(rawName);
          const merged = new Set(names.get(name) ?? []);
          for (const a of addrs) {
            if (isIPv4(a)) merged.add(a);
            else this.log.warn('DNS server: ignoring a non-IPv4 address', { name, address: a });
          }
          if (merged.size > 0) names.set(name, [...merged]);
        }
      }
    }
    this.scopes = next;
  }

  private async resolvConfUpstreams(): Promise<Upstream[]> {
    let text: string;
    try {
      text = await readFile(RESOLV_CONF, 'utf8');
    } catch (err) {
      this.log.warn('DNS server: no upstream resolvers, cannot read ' + RESOLV_CONF, { error: String(err) });
      return [];
    }
    return parseResolvConf(text).map(parseUpstream);
  }

  private reply(buf: Buffer, to: Client): void {
    const sock = this.socket;
    if (!sock) return;
    sock.send(buf, to.port, to.address, (err) => {
      if (err) this.log.debug('DNS server: cannot send a response', { to: to.address, error: err.message });
    });
  }

  private onMessage(msg: Buffer, from: Client): void {
    let header;
    try {
      header = parseHeader(msg);
    } catch {
      this.log.debug('DNS server: dropping a packet shorter than a header', { from: from.address });
      return;
    }
    if (header.qr) return; // a response sent to us: answering it could start a loop
    if (header.opcode !== OPCODE_QUERY) {
      this.reply(buildHeaderResponse(header, RCODE.NOTIMP), from);
      return;
    }
    let query: DnsQuery;
    try {
      query = parseQuery(msg);
    } catch (err) {
      this.log.debug('DNS server: malformed query', { from: from.address, error: String(err) });
      this.reply(buildHeaderResponse(header, RCODE.FORMERR), from);
      return;
    }
    if (query.edns && query.edns.version > 0) {
      this.reply(buildResponse({ query, rcode: RCODE.BADVERS }), from);
      return;
    }
    const { question } = query;
    const addrs =
      question.class === CLASS_IN
        ? this.scopes.get(from.address)?.get(normalizeName(question.name))
        : undefined;
    if (addrs) {
      // In scope: A gets the addresses; any other type an empty NOERROR so resolvers do not go elsewhere.
      const addresses = question.type === TYPE.A ? shuffled(addrs) : [];
      this.reply(buildResponse({ query, rcode: RCODE.NOERROR, addresses, ttl: DNS_TTL }), from);
      return;
    }
    this.forward(msg, query, from);
  }

  private servfail(query: DnsQuery, to: Client): void {
    this.reply(buildResponse({ query, rcode: RCODE.SERVFAIL }), to);
  }

  /** Asks the upstreams in turn (each with its own socket and a fresh ID) and relays the first usable answer. */
  private forward(raw: Buffer, query: DnsQuery, from: Client): void {
    const upstreams = this.upstreams.filter((u) => !(u.host === this.address && u.port === this.boundPort));
    if (upstreams.length === 0) {
      this.servfail(query, from);
      return;
    }
    if (this.forwards.size >= this.maxPending) {
      if (!this.overflowWarned) {
        this.log.warn('DNS server: too many forwarded queries in flight, answering SERVFAIL', {
          limit: this.maxPending,
        });
        this.overflowWarned = true;
      }
      this.servfail(query, from);
      return;
    }
    if (this.forwards.size < this.maxPending / 2) this.overflowWarned = false;

    let next = 0;
    let sock: dgram.Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const cleanup = (): void => {
      clearTimeout(timer);
      timer = undefined;
      const s = sock;
      sock = undefined;
      if (s) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
    };
    const forward: Forward = {
      cancel: () => {
        done = true;
        cleanup();
      },
    };
    const finish = (response?: Buffer): void => {
      if (done) return;
      done = true;
      cleanup();
      this.forwards.delete(forward);
      if (response) this.reply(response, from);
      else this.servfail(query, from);
    };
    const attempt = (): void => {
      cleanup();
      if (done) return;
      if (next >= upstreams.length) {
        finish();
        return;
      }
      const up = upstreams[next++];
      const id = randomInt(0, 0x10000);
      const s = dgram.createSocket(up.family);
      sock = s;
      const failed = (why: string): void => {
        if (sock !== s) return;
        this.log.debug('DNS server: upstream failed', { upstream: `${up.host}:${up.port}`, why });
        attempt();
      };
      s.on('error', (err) => failed(err.message));
      s.on('message', (msg, rinfo) => {
        if (sock !== s || rinfo.address !== up.host || rinfo.port !== up.port) return;
        let parsed;
        try {
          parsed = parseHeaderAndQuestion(msg);
        } catch {
          return; // not a response; keep waiting for one
        }
        const q = parsed.question;
        if (!parsed.header.qr || parsed.header.id !== id) return;
        if (!q || !sameName(q.name, query.question.name)) return;
        if (q.type !== query.question.type || q.class !== query.question.class) return;
        if (parsed.header.rcode === RCODE.SERVFAIL || parsed.header.rcode === RCODE.REFUSED) {
          failed(`rcode ${parsed.header.rcode}`); // as Docker does: try the next one
          return;
        }
        finish(withId(msg, query.header.id));
      });
      timer = setTimeout(() => failed(`no answer in ${this.timeoutMs} ms`), this.timeoutMs);
      s.send(withId(raw, id), up.port, up.host, (err) => {
        if (err) failed(err.message);
      });
    };
    this.forwards.add(forward);
    attempt();
  }
}
