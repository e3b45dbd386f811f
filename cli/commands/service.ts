// `tsswarm service create|ls|ps|inspect|update|scale|rollback|rm|logs`.
import type { Command } from 'commander';
import type { Node, Secret, Service, ServiceSpec, Task } from '../../api/index.js';
import type { ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat, printList } from '../format.js';
import { addServiceFlags, type ServiceFlags } from '../service/options.js';
import { buildCreateSpec, type NameResolver } from '../service/create-spec.js';
import {
  addUpdateListFlags,
  applyUpdateFlags,
  type NetworkResolver,
  type UpdateFlags,
} from '../service/update-spec.js';
import { waitForConvergence } from '../service/progress.js';
import { serviceRow, taskRows } from '../service/render.js';
import { prettyService } from '../service/pretty.js';
import { registerServiceLogs } from '../service/logs-command.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function resolver(client: ApiClient): NameResolver {
  return async (kind, name) => {
    const filters = encodeURIComponent(JSON.stringify({ names: { [name]: true } }));
    const found = await client.get<Secret[]>(`/${kind}s?filters=${filters}`);
    const hit =
      found.find((s) => s.Spec.Name === name) ??
      (await client.get<Secret>(`/${kind}s/${encodeURIComponent(name)}`).catch(() => undefined));
    if (!hit) throw new CliError(`${kind} not found: ${name}`);
    return hit.ID;
  };
}

/** A network name, ID or ID prefix → its ID (--network-add/--network-rm compare IDs, as the spec holds them). */
function networkResolver(client: ApiClient): NetworkResolver {
  return async (ref) => (await client.get<{ Id: string }>(`/networks/${encodeURIComponent(ref)}`)).Id;
}

async function converge(
  client: ApiClient,
  id: string,
  flags: ServiceFlags,
  until: 'running' | 'updated' | 'rolledBack',
): Promise<void> {
  if (flags.detach) return;
  await waitForConvergence(client, id, { quiet: flags.quiet, until });
}

async function updateService(
  client: ApiClient,
  ref: string,
  edit: (s: Service) => Promise<ServiceSpec>,
  rollback = false,
): Promise<Service> {
  const current = await client.get<Service>(`/services/${encodeURIComponent(ref)}`);
  const spec = await edit(current);
  await client.post(`/services/${current.ID}/update`, spec, {
    version: current.Version.Index,
    ...(rollback ? { rollback: 'previous' } : {}),
  });
  return current;
}

export function registerService(program: Command): void {
  const service = program.command('service').description('Manage swarm services');

  addServiceFlags(
    service
      .command('create')
      .description('Create a new service')
      .argument('<image>')
      .argument('[command...]'),
    'create',
  )
    .passThroughOptions()
    .action(async (image: string, args: string[], flags: ServiceFlags, cmd: Command) => {
      const client = clientOf(cmd);
      const spec = await buildCreateSpec(image, args, flags, resolver(client));
      const { ID } = await client.post<{ ID: string }>('/services/create', spec);
      process.stdout.write(`${ID}\n`);
      await converge(client, ID, flags, 'running');
    });

  service
    .command('ls')
    .alias('list')
    .description('List services')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <format>', 'Format output using a template or "json"')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (opts: { filter: string[]; format?: string; quiet?: boolean }, cmd: Command) => {
      const filters: Record<string, Record<string, boolean>> = {};
      for (const f of opts.filter) {
        const [k, ...v] = f.split('=');
        (filters[k!] ??= {})[v.join('=')] = true;
      }
      const services = await clientOf(cmd).get<Service[]>(
        `/services?status=true&filters=${encodeURIComponent(JSON.stringify(filters))}`,
      );
      if (opts.quiet) return void process.stdout.write(services.map((s) => s.ID + '\n').join(''));
      printList(services, opts.format, ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'], serviceRow);
    });

  service
    .command('ps')
    .description('List the tasks of one or more services')
    .argument('<service...>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <format>', 'Pretty-print tasks using a template')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(
      async (
        refs: string[],
        opts: { filter: string[]; format?: string; trunc: boolean; quiet?: boolean },
        cmd: Command,
      ) => {
        const client = clientOf(cmd);
        const services = new Map<string, Service>();
        for (const r of refs) {
          const s = await client.get<Service>(`/services/${encodeURIComponent(r)}`);
          services.set(s.ID, s);
        }
        const filters: Record<string, Record<string, boolean>> = {
          service: Object.fromEntries([...services.keys()].map((id) => [id, true])),
        };
        for (const f of opts.filter) {
          const [k, ...v] = f.split('=');
          (filters[k!] ??= {})[v.join('=')] = true;
        }
        const tasks = await client.get<Task[]>(
          `/tasks?filters=${encodeURIComponent(JSON.stringify(filters))}`,
        );
        if (opts.quiet) return void process.stdout.write(tasks.map((t) => t.ID + '\n').join(''));
        const nodes = new Map(
          (await client.get<Node[]>('/nodes').catch(() => [] as Node[])).map((n) => [n.ID, n]),
        );
        if (opts.format) return void printList(tasks, opts.format, [], () => []);
        const rows = taskRows(tasks, services, nodes, { noTrunc: !opts.trunc });
        printList(
          rows,
          undefined,
          ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'],
          (r) => r,
        );
      },
    );

  service
    .command('inspect')
    .description('Display detailed information on one or more services')
    .argument('<service...>')
    .option('-f, --format <format>', 'Format output using a template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], opts: { format?: string; pretty?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const services = await Promise.all(
        refs.map((r) => client.get<Service>(`/services/${encodeURIComponent(r)}`)),
      );
      if (opts.pretty) process.stdout.write(services.map(prettyService).join('\n\n') + '\n');
      else if (opts.format)
        process.stdout.write(services.map((s) => applyFormat(opts.format!, s)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(services, null, 4) + '\n');
    });

  addUpdateListFlags(
    addServiceFlags(
      service.command('update').description('Update a service').argument('<service>'),
      'update',
    ),
  ).action(async (ref: string, flags: UpdateFlags, cmd: Command) => {
    const client = clientOf(cmd);
    const current = flags.rollback
      ? await updateService(client, ref, async (s) => s.Spec, true)
      : await updateService(client, ref, (s) =>
          applyUpdateFlags(s.Spec, flags, resolver(client), networkResolver(client)),
        );
    process.stdout.write(`${ref}\n`);
    await converge(client, current.ID, flags, flags.rollback ? 'rolledBack' : 'updated');
  });

  service
    .command('scale')
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (pairs: string[], flags: ServiceFlags, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = false;
      for (const pair of pairs) {
        const m = /^([^=]+)=(\d+)$/.exec(pair);
        if (!m) throw new CliError(`invalid scale specifier '${pair}'.\nSee 'tsswarm service scale --help'.`);
        try {
          const current = await updateService(client, m[1]!, async (s) => {
            const mode = s.Spec.Mode ?? {};
            if (mode.Replicated) mode.Replicated.Replicas = Number(m[2]);
            else if (mode.ReplicatedJob) mode.ReplicatedJob.TotalCompletions = Number(m[2]);
            else throw new CliError(`scale can only be used with replicated or replicated-job mode`);
            return s.Spec;
          });
          process.stdout.write(`${m[1]} scaled to ${m[2]}\n`);
          await converge(client, current.ID, flags, 'running');
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    });

  service
    .command('rollback')
    .description("Revert changes to a service's configuration")
    .argument('<service>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, flags: ServiceFlags, cmd: Command) => {
      const client = clientOf(cmd);
      const current = await updateService(client, ref, async (s) => s.Spec, true);
      process.stdout.write(`${ref}\n`);
      await converge(client, current.ID, flags, 'rolledBack');
    });

  registerServiceLogs(service);

  service
    .command('rm')
    .alias('remove')
    .description('Remove one or more services')
    .argument('<service...>')
    .action(async (refs: string[], _opts: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = false;
      for (const r of refs) {
        try {
          await client.json('DELETE', `/services/${encodeURIComponent(r)}`);
          process.stdout.write(`${r}\n`);
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    });
}
