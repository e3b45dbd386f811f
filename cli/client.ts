// HTTP client of the daemon's API over its UNIX socket, as the docker CLI talks to dockerd.
import http from 'node:http';
import { API_VERSION } from '../api/index.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw body stream (e.g. a tar upload); sent instead of `body`. */
  stream?: NodeJS.ReadableStream;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class ApiClient {
  readonly socketPath: string;

  constructor(readonly host: string) {
    if (!host.startsWith('unix://'))
      throw new Error(`unsupported host "${host}": only unix:///path sockets are supported`);
    this.socketPath = host.slice('unix://'.length);
  }

  private path(p: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return `/v${API_VERSION}${p}${s ? `?${s}` : ''}`;
  }

  /** Sends a request and resolves with the raw response, status checked (>= 400 → ApiError). */
  raw(method: string, p: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...opts.headers };
      let payload: Buffer | undefined;
      if (opts.body !== undefined) {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(payload.length);
      } else if (opts.stream) {
        headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      }
      const req = http.request(
        { socketPath: this.socketPath, method, path: this.path(p, opts.query), headers },
        (res) => {
          if ((res.statusCode ?? 500) < 400) return resolve(res);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let message = text.trim();
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // Not JSON: show the body as it came.
            }
            reject(new ApiError(res.statusCode ?? 500, `Error response from daemon: ${message}`));
          });
          res.on('error', reject);
        },
      );
      if (opts.timeoutMs)
        req.setTimeout(opts.timeoutMs, () =>
          req.destroy(new Error(`request timed out after ${opts.timeoutMs} ms`)),
        );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new Error(`Cannot connect to the tsswarm daemon at ${this.host}. Is the daemon running?`));
        } else reject(err);
      });
      if (payload) req.end(payload);
      else if (opts.stream) opts.stream.pipe(req);
      else req.end();
    });
  }

  async json<T = unknown>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, p, opts);
    const text = await readAll(res);
    return (text.length ? JSON.parse(text.toString('utf8')) : undefined) as T;
  }

  get<T = unknown>(p: string, query?: RequestOptions['query']): Promise<T> {
    return this.json<T>('GET', p, { query });
  }

  post<T = unknown>(p: string, body?: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.json<T>('POST', p, { body, query });
  }
}

export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
