// A Distribution API v2 client: HTTPS, or plain HTTP for loopback registries (Docker's insecure-localhost rule);
// anonymous, basic and bearer-token auth driven by the registry's WWW-Authenticate challenge; request timeouts.
import { Readable } from 'node:stream';
import { NotFound, PermissionDenied, Unavailable, errorMessage } from '../../api/index.js';

export interface Credentials {
  username?: string;
  password?: string;
}

export interface RegistryClientOptions {
  credentials?: Credentials;
  /** Applies to each request until its response headers arrive. */
  timeoutMs?: number;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/;

export function registryBaseUrl(domain: string): string {
  if (domain === 'docker.io') return 'https://registry-1.docker.io';
  return `${LOOPBACK.test(domain) ? 'http' : 'https'}://${domain}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

export class RegistryClient {
  private authorization: string | undefined;
  private readonly base: string;

  constructor(
    readonly domain: string,
    readonly repository: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.base = registryBaseUrl(domain);
  }

  private async send(url: string, headers: Record<string, string>): Promise<Response> {
    const timeoutMs = this.options.timeoutMs ?? 15_000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      const cause = controller.signal.aborted
        ? `no response within ${timeoutMs} ms`
        : errorMessage((err as { cause?: unknown }).cause ?? err);
      throw new Unavailable(`registry ${this.domain} is unreachable: ${cause}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private basic(): string | undefined {
    const c = this.options.credentials;
    if (!c?.username) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
  }

  private async authenticate(challenge: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      const basic = this.basic();
      if (!basic) throw new PermissionDenied(`registry ${this.domain} requires credentials`);
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm)
      throw new PermissionDenied(`registry ${this.domain}: unsupported auth challenge "${challenge}"`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull`);
    const basic = this.basic();
    const res = await this.send(url.toString(), basic ? { authorization: basic } : {});
    if (!res.ok) throw new PermissionDenied(`registry ${this.domain}: token request failed (${res.status})`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new PermissionDenied(`registry ${this.domain}: token response without a token`);
    this.authorization = `Bearer ${token}`;
  }

  /** GET <base>/v2/<repo>/<path>, answering one auth challenge. */
  async get(path: string, accept?: string): Promise<Response> {
    const url = `${this.base}/v2/${this.repository}/${path}`;
    const headers = (): Record<string, string> => ({
      ...(accept ? { accept } : {}),
      ...(this.authorization ? { authorization: this.authorization } : {}),
    });
    let res = await this.send(url, headers());
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      res = await this.send(url, headers());
      if (res.status === 401) {
        await res.body?.cancel();
        throw new PermissionDenied(`registry ${this.domain}: unauthorized (check credentials)`);
      }
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new NotFound(`${this.domain}/${this.repository}: ${path} not found`);
    }
    if (!res.ok) {
      const text = await res.text();
      throw new Unavailable(
        `registry ${this.domain} answered ${res.status} for ${path}: ${text.slice(0, 200)}`,
      );
    }
    return res;
  }

  async manifest(reference: string, accept: string[]): Promise<{ body: Buffer; mediaType: string }> {
    const res = await this.get(`manifests/${reference}`, accept.join(', '));
    const body = Buffer.from(await res.arrayBuffer());
    return { body, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  async blob(digest: string): Promise<Readable> {
    const res = await this.get(`blobs/${digest}`);
    if (!res.body) throw new Unavailable(`registry ${this.domain}: empty body for blob ${digest}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  }
}
