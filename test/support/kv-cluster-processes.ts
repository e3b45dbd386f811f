// A Raft KV cluster of separate processes on 127.0.0.1, each with its own data directory; members can be
// SIGKILLed and restarted on the same directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './net.js';
import http from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT } from './daemon-process.js';
import { tempDir, type TempDir } from './temp.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

export function httpJson(
  port: number,
  path: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export interface Member {
  id: string;
  port: number;
  httpPort: number;
  child?: ChildProcess;
}

export class KvProcessCluster {
  readonly members: Member[] = [];
  private constructor(
    readonly dir: TempDir,
    private readonly snapshotEvery?: number,
  ) {}

  static async start(n: number, snapshotEvery?: number): Promise<KvProcessCluster> {
    const c = new KvProcessCluster(tempDir(), snapshotEvery);
    for (let i = 1; i <= n; i++)
      c.members.push({ id: `p${i}`, port: await freePort(), httpPort: await freePort() });
    await Promise.all(c.members.map((m) => c.startMember(m)));
    return c;
  }

  async startMember(m: Member): Promise<void> {
    const env = {
      ...process.env,
      TSS_KV: JSON.stringify({
        id: m.id,
        dir: join(this.dir.path, m.id),
        port: m.port,
        httpPort: m.httpPort,
        members: this.members.map((x) => ({ id: x.id, addr: `127.0.0.1:${x.port}` })),
        snapshotEvery: this.snapshotEvery,
      }),
    };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test/integration/raft/kv-process.ts')],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    m.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`member ${m.id} did not start`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`member ${m.id} exited with ${code}`)));
    });
  }

  async kill(m: Member): Promise<void> {
    const child = m.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    m.child = undefined;
  }

  async leader(timeoutMs = 15_000): Promise<Member> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const m of this.members) {
        if (!m.child) continue;
        const s = await httpJson(m.httpPort, '/status', 1000).catch(() => undefined);
        if (s?.body.role === 'leader') return m;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no leader');
  }

  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m);
    this.dir.remove();
  }
}
