// `tsswarm container ls|inspect|logs|run -d|start|stop|kill|rm|wait|exec` against this node's containers.
import type { Command } from 'commander';
import { parseDuration } from '../../api/index.js';
import type { ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat, printList } from '../format.js';
import {
  parseBytes,
  parseCpus,
  parseEnv,
  parseLabels,
  parseMount,
  splitCommand,
} from '../service/parse-opts.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface Summary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Status: string;
}

/** Writes a Docker multiplexed stream to our stdout/stderr as it arrives. */
async function demuxTo(stream: NodeJS.ReadableStream): Promise<void> {
  let buf = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      const out = buf[0] === 2 ? process.stderr : process.stdout;
      out.write(buf.subarray(8, 8 + len));
      buf = buf.subarray(8 + len);
    }
  }
}

interface RunFlags {
  detach?: boolean;
  name?: string;
  env: string[];
  label: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  entrypoint?: string;
  readOnly?: boolean;
  capAdd: string[];
  capDrop: string[];
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  network?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  noHealthcheck?: boolean;
  logOpt: string[];
  stopSignal?: string;
  stopTimeout?: string;
  rm?: boolean;
}

function createBody(image: string, cmd: string[], f: RunFlags): Record<string, unknown> {
  const tmpfs: Record<string, string> = {};
  for (const t of f.tmpfs) {
    const [path, opts = ''] = t.split(/:(.*)/s) as [string, string?];
    tmpfs[path] = opts;
  }
  const logConfig: Record<string, string> = {};
  for (const o of f.logOpt) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new CliError(`invalid log opt: ${o} (expected key=value)`);
    logConfig[o.slice(0, eq)] = o.slice(eq + 1);
  }
  const health = f.noHealthcheck
    ? { Test: ['NONE'] }
    : f.healthCmd || f.healthInterval || f.healthTimeout || f.healthRetries || f.healthStartPeriod
      ? {
          ...(f.healthCmd ? { Test: ['CMD-SHELL', f.healthCmd] } : {}),
          ...(f.healthInterval ? { Interval: parseDuration(f.healthInterval) } : {}),
          ...(f.healthTimeout ? { Timeout: parseDuration(f.healthTimeout) } : {}),
          ...(f.healthRetries ? { Retries: Number(f.healthRetries) } : {}),
          ...(f.healthStartPeriod ? { StartPeriod: parseDuration(f.healthStartPeriod) } : {}),
        }
      : undefined;
  return {
    Image: image,
    ...(cmd.length ? { Cmd: cmd } : {}),
    ...(f.entrypoint !== undefined ? { Entrypoint: f.entrypoint ? splitCommand(f.entrypoint) : [''] } : {}),
    Env: parseEnv(f.env),
    Labels: parseLabels(f.label),
    ...(f.user ? { User: f.user } : {}),
    ...(f.workdir ? { WorkingDir: f.workdir } : {}),
    ...(f.hostname ? { Hostname: f.hostname } : {}),
    ...(f.stopSignal ? { StopSignal: f.stopSignal } : {}),
    ...(f.stopTimeout ? { StopTimeout: Number(f.stopTimeout) } : {}),
    ...(health ? { Healthcheck: health } : {}),
    HostConfig: {
      Binds: f.volume,
      Mounts: f.mount.map(parseMount),
      Tmpfs: tmpfs,
      ReadonlyRootfs: !!f.readOnly,
      CapAdd: f.capAdd,
      CapDrop: f.capDrop,
      ...(f.memory ? { Memory: parseBytes(f.memory) } : {}),
      ...(f.cpus ? { NanoCpus: parseCpus(f.cpus) } : {}),
      ...(f.pidsLimit ? { PidsLimit: Number(f.pidsLimit) } : {}),
      NetworkMode: f.network ?? 'default',
      AutoRemove: !!f.rm,
      LogConfig: { Type: 'json-file', Config: logConfig },
    },
  };
}

async function forEach(refs: string[], fn: (ref: string) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const ref of refs) {
    try {
      await fn(ref);
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (failures.length) throw new CliError(failures.join('\n'));
}

const path = (ref: string, suffix = '') => `/containers/${encodeURIComponent(ref)}${suffix}`;

async function execIn(
  client: ApiClient,
  ref: string,
  cmd: string[],
  o: { env: string[]; user?: string; workdir?: string },
): Promise<number> {
  const { Id } = await client.post<{ Id: string }>(path(ref, '/exec'), {
    Cmd: cmd,
    Env: o.env,
    User: o.user ?? '',
    WorkingDir: o.workdir ?? '',
    AttachStdout: true,
    AttachStderr: true,
  });
  await demuxTo(await client.raw('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: false } }));
  const info = await client.get<{ ExitCode: number | null }>(`/exec/${Id}/json`);
  return info.ExitCode ?? 0;
}

export function registerContainer(program: Command): void {
  const c = program.command('container').description("Manage this node's containers");

  c.command('ls')
    .alias('ps')
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('-f, --filter <filter>', 'Filter output (label=…, status=…, name=…, id=…)', collect, [])
    .option('--format <format>', 'Format output using a template or "json"')
    .action(
      async (o: { all?: boolean; quiet?: boolean; filter: string[]; format?: string }, cmd: Command) => {
        const filters: Record<string, Record<string, boolean>> = {};
        for (const f of o.filter) {
          const eq = f.indexOf('=');
          if (eq < 0) throw new CliError(`bad format of filter (expected name=value): ${f}`);
          (filters[f.slice(0, eq)] ??= {})[f.slice(eq + 1)] = true;
        }
        const list = await clientOf(cmd).get<Summary[]>('/containers/json', {
          all: o.all ? 1 : undefined,
          filters: o.filter.length ? JSON.stringify(filters) : undefined,
        });
        if (o.quiet) return void process.stdout.write(list.map((x) => `${x.Id.slice(0, 12)}\n`).join(''));
        printList(list, o.format, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'], (x) => [
          x.Id.slice(0, 12),
          x.Image,
          JSON.stringify(x.Command.length > 20 ? `${x.Command.slice(0, 19)}…` : x.Command),
          new Date(x.Created * 1000).toISOString(),
          x.Status,
          x.Names.map((n) => n.replace(/^\//, '')).join(','),
        ]);
      },
    );

  c.command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<container...>')
    .option('-f, --format <format>', 'Format output using a template')
    .action(async (refs: string[], o: { format?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const all = await Promise.all(refs.map((r) => client.get(path(r, '/json'))));
      if (o.format) process.stdout.write(all.map((i) => applyFormat(o.format!, i)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(all, null, 4) + '\n');
    });

  c.command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs', 'all')
    .option('--since <time>', 'Show logs since a timestamp (unix seconds or RFC 3339) or relative (e.g. 42m)')
    .option('-t, --timestamps', 'Show timestamps')
    .action(
      async (
        ref: string,
        o: { follow?: boolean; tail: string; since?: string; timestamps?: boolean },
        cmd: Command,
      ) => {
        let since: string | undefined;
        if (o.since) {
          since =
            /^\d+(\.\d+)?$/.test(o.since) || o.since.includes('T')
              ? o.since
              : String((Date.now() - parseDuration(o.since) / 1e6) / 1000);
        }
        const res = await clientOf(cmd).raw('GET', path(ref, '/logs'), {
          query: {
            stdout: 1,
            stderr: 1,
            follow: o.follow ? 1 : undefined,
            tail: o.tail,
            since,
            timestamps: o.timestamps ? 1 : undefined,
          },
        });
        await demuxTo(res);
      },
    );

  c.command('run')
    .description('Create and start a container in the background (-d; attaching is not supported yet)')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--name <name>', 'Assign a name to the container')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect, [])
    .option('-l, --label <KEY=VALUE>', 'Set meta data on a container', collect, [])
    .option('-v, --volume <src:dst[:opts]>', 'Bind mount a volume', collect, [])
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect, [])
    .option('--tmpfs <path[:opts]>', 'Mount a tmpfs directory', collect, [])
    .option('-u, --user <user[:group]>', 'Username or UID')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--hostname <name>', 'Container host name')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--cap-add <cap>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect, [])
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--cpus <number>', 'Number of CPUs')
    .option('--pids-limit <n>', 'Tune container pids limit')
    .option('--network <mode>', 'Network mode: none or host')
    .option('--health-cmd <command>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--log-opt <key=value>', 'Log driver options (max-size, max-file)', collect, [])
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .option('--stop-timeout <seconds>', 'Timeout (in seconds) to stop a container')
    .option('--rm', 'Automatically remove the container when it exits')
    .action(
      async (image: string, command: string[], o: RunFlags & { healthcheck?: boolean }, cmd: Command) => {
        if (!o.detach) throw new CliError('only detached runs are supported for now: add -d', 125);
        o.noHealthcheck = o.healthcheck === false;
        const client = clientOf(cmd);
        const created = await client.post<{ Id: string; Warnings?: string[] }>(
          '/containers/create',
          createBody(image, command, o),
          {
            name: o.name,
          },
        );
        for (const w of created.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
        await client.json('POST', path(created.Id, '/start'));
        process.stdout.write(`${created.Id}\n`);
      },
    );

  c.command('start')
    .description('Start one or more stopped containers')
    .argument('<container...>')
    .action((refs: string[], _o: unknown, cmd: Command) =>
      forEach(refs, (r) =>
        clientOf(cmd)
          .json('POST', path(r, '/start'))
          .then(() => undefined),
      ),
    );

  c.command('stop')
    .description('Stop one or more running containers')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'Seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .action((refs: string[], o: { time?: string; signal?: string }, cmd: Command) =>
      forEach(refs, (r) =>
        clientOf(cmd)
          .json('POST', path(r, '/stop'), { query: { t: o.time, signal: o.signal } })
          .then(() => undefined),
      ),
    );

  c.command('kill')
    .description('Kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'Signal to send to the container', 'SIGKILL')
    .action((refs: string[], o: { signal: string }, cmd: Command) =>
      forEach(refs, (r) =>
        clientOf(cmd)
          .json('POST', path(r, '/kill'), { query: { signal: o.signal } })
          .then(() => undefined),
      ),
    );

  c.command('rm')
    .alias('remove')
    .description('Remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .action((refs: string[], o: { force?: boolean }, cmd: Command) =>
      forEach(refs, (r) =>
        clientOf(cmd)
          .json('DELETE', path(r), { query: { force: o.force ? 1 : undefined } })
          .then(() => undefined),
      ),
    );

  c.command('wait')
    .description('Block until a container stops, then print its exit code')
    .argument('<container>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const r = await clientOf(cmd).post<{ StatusCode: number }>(path(ref, '/wait'));
      process.stdout.write(`${r.StatusCode}\n`);
    });

  c.command('exec')
    .description('Execute a command in a running container (non-interactive)')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect, [])
    .option('-u, --user <user[:group]>', 'Username or UID')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .action(
      async (
        ref: string,
        command: string[],
        o: { env: string[]; user?: string; workdir?: string },
        cmd: Command,
      ) => {
        const code = await execIn(clientOf(cmd), ref, command, o);
        if (code !== 0) throw new CliError('', code);
      },
    );
}
