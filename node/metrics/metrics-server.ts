// `--metrics-addr HOST:PORT`: a plain HTTP listener that serves GET /metrics in Prometheus' text format.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgument, errorMessage, type Logger } from '../../api/index.js';
import type { NodeMetrics } from './node-metrics.js';

/** "HOST:PORT" or "[v6]:PORT" → host and port; the port is required (0 picks a free one). */
export function parseMetricsAddr(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new InvalidArgument(`invalid --metrics-addr "${text}": expected HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export class MetricsServer {
  private server?: http.Server;
  private readonly listen: { host: string; port: number };

  constructor(
    addr: string,
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
  ) {
    this.listen = parseMetricsAddr(addr);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { host, port } = this.listen;
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info('serving metrics', { addr: this.address });
  }

  /** Where the server listens (HOST:PORT), once started. */
  get address(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    try {
      const { contentType, body } = await this.metrics.scrape();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log.warn('metrics scrape failed', { err: errorMessage(err) });
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${errorMessage(err)}\n`);
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
