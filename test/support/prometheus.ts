// A real Prometheus (Debian's `prometheus` package) for tests: its own generated config and data directory,
// listening on 127.0.0.1:<free port>, stopped and removed by `stop()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.js';
import { tempDir } from './temp.js';

export interface PromTarget {
  addr: string;
  labels: Record<string, string>;
}

export interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  url: string;
  /** An instant query; resolves with the vector's samples. */
  query(q: string): Promise<VectorSample[]>;
  log(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  targets: PromTarget[];
  ruleFiles?: string[];
  intervalSeconds?: number;
}): Promise<Prometheus> {
  const dir = tempDir();
  const port = await freePort();
  const interval = `${opts.intervalSeconds ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [
      {
        job_name: 'tsswarm',
        static_configs: opts.targets.map((t) => ({ targets: [t.addr], labels: t.labels })),
      },
    ],
  };
  // JSON is YAML.
  writeFileSync(join(dir.path, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const logFile = join(dir.path, 'prometheus.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir.path, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      { stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log().slice(-2000)}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready: ${log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const query = async (q: string): Promise<VectorSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector')
      throw new Error(`query ${q}: ${body.error ?? body.data?.resultType}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return { url, query, log, stop };
}
