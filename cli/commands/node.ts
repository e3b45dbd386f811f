// `tsswarm node ls|inspect|update|promote|demote|rm`.
import type { Command } from 'commander';
import { type Node, type NodeSpec, type SwarmInfo } from '../../api/index.js';
import type { ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat, printList } from '../format.js';
import { parseLabels } from '../service/parse-opts.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

async function selfId(client: ApiClient): Promise<string> {
  return (await client.get<{ Swarm: SwarmInfo }>('/info')).Swarm.NodeID;
}

async function resolve(client: ApiClient, ref: string): Promise<Node> {
  return client.get<Node>(`/nodes/${encodeURIComponent(ref === 'self' ? await selfId(client) : ref)}`);
}

async function updateSpec(client: ApiClient, ref: string, edit: (s: NodeSpec) => void): Promise<void> {
  const node = await resolve(client, ref);
  const spec = structuredClone(node.Spec);
  edit(spec);
  await client.post(`/nodes/${node.ID}/update`, spec, { version: node.Version.Index });
}

function pretty(n: Node): string {
  const lines = [
    `ID:\t\t\t${n.ID}`,
    `Hostname:\t\t${n.Description.Hostname}`,
    `Joined at:\t\t${n.CreatedAt}`,
    'Status:',
    ` State:\t\t\t${cap(n.Status.State)}`,
    ` Availability:\t\t${cap(n.Spec.Availability)}`,
    ` Address:\t\t${n.Status.Addr}`,
  ];
  if (n.ManagerStatus)
    lines.push(
      'Manager Status:',
      ` Address:\t\t${n.ManagerStatus.Addr}`,
      ` Raft Status:\t\t${cap(n.ManagerStatus.Reachability)}`,
      ` Leader:\t\t${n.ManagerStatus.Leader ? 'Yes' : 'No'}`,
    );
  lines.push(
    'Platform:',
    ` Operating System:\t${n.Description.Platform.OS}`,
    ` Architecture:\t\t${n.Description.Platform.Architecture}`,
  );
  lines.push(
    'Resources:',
    ` CPUs:\t\t\t${n.Description.Resources.NanoCPUs / 1e9}`,
    ` Memory:\t\t${(n.Description.Resources.MemoryBytes / 2 ** 30).toFixed(2)}GiB`,
  );
  lines.push(`Engine Version:\t\t${n.Description.Engine.EngineVersion}`);
  return lines.join('\n');
}

export function registerNode(program: Command): void {
  const node = program.command('node').description('Manage swarm nodes');
  node
    .command('ls')
    .alias('list')
    .description('List nodes in the swarm')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format output using a template or "json"')
    .action(async (o: { quiet?: boolean; format?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const nodes = await client.get<Node[]>('/nodes');
      if (o.quiet) return void process.stdout.write(nodes.map((n) => n.ID + '\n').join(''));
      const self = await selfId(client);
      printList(
        nodes,
        o.format,
        ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'],
        (n) => [
          n.ID === self ? `${n.ID} *` : n.ID,
          n.Description.Hostname,
          cap(n.Status.State),
          cap(n.Spec.Availability),
          n.ManagerStatus ? (n.ManagerStatus.Leader ? 'Leader' : cap(n.ManagerStatus.Reachability)) : '',
          n.Description.Engine.EngineVersion,
        ],
      );
    });
  node
    .command('inspect')
    .description('Display detailed information on one or more nodes')
    .argument('<node...>')
    .option('--pretty', 'Print the information in a human friendly format')
    .option('-f, --format <format>', 'Format output using a template')
    .action(async (refs: string[], o: { pretty?: boolean; format?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const nodes = await Promise.all(refs.map((r) => resolve(client, r)));
      if (o.pretty) process.stdout.write(nodes.map(pretty).join('\n\n') + '\n');
      else if (o.format) process.stdout.write(nodes.map((n) => applyFormat(o.format!, n)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(nodes, null, 4) + '\n');
    });
  node
    .command('update')
    .description('Update a node')
    .argument('<node>')
    .option('--availability <a>', 'Availability of the node ("active", "pause", "drain")')
    .option('--role <role>', 'Role of the node ("worker", "manager")')
    .option('--label-add <label>', 'Add or update a node label (key=value)', collect, [])
    .option('--label-rm <label>', 'Remove a node label if exists', collect, [])
    .action(
      async (
        ref: string,
        o: { availability?: string; role?: string; labelAdd: string[]; labelRm: string[] },
        cmd: Command,
      ) => {
        await updateSpec(clientOf(cmd), ref, (s) => {
          if (o.availability) s.Availability = o.availability as NodeSpec['Availability'];
          if (o.role) s.Role = o.role as NodeSpec['Role'];
          const labels = { ...s.Labels, ...parseLabels(o.labelAdd) };
          for (const k of o.labelRm) delete labels[k];
          s.Labels = labels;
        });
        process.stdout.write(`${ref}\n`);
      },
    );
  for (const [name, role] of [
    ['promote', 'manager'],
    ['demote', 'worker'],
  ] as const) {
    node
      .command(name)
      .description(
        `${name === 'promote' ? 'Promote' : 'Demote'} one or more nodes ${name === 'promote' ? 'to manager' : 'from manager'} in the swarm`,
      )
      .argument('<node...>')
      .action(async (refs: string[], _o: unknown, cmd: Command) => {
        const client = clientOf(cmd);
        for (const r of refs) {
          await updateSpec(client, r, (s) => (s.Role = role));
          process.stdout.write(`Node ${r} ${name}d to a ${role} in the swarm.\n`);
        }
      });
  }
  node
    .command('rm')
    .alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (refs: string[], o: { force?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = false;
      for (const r of refs) {
        try {
          const n = await resolve(client, r);
          await client.json('DELETE', `/nodes/${n.ID}`, { query: { force: !!o.force } });
          process.stdout.write(`${r}\n`);
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    });
}
