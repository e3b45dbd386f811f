// `tsswarm network create|ls|inspect|rm|prune`: swarm-scoped overlay networks, with the docker CLI's flags.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InvalidArgument, parseIPv4, splitCidr, type IPAMConfig } from '../../api/index.js';
import { ApiError, type ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat, printList } from '../format.js';
import { parseLabels } from '../service/parse-opts.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The fields of GET /networks this command reads. */
interface NetworkResource {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string>;
}

export interface NetworkCreateFlags {
  driver: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  ipamDriver?: string;
  ipamOpt: string[];
  attachable?: boolean;
  internal?: boolean;
  ingress?: boolean;
  scope?: string;
  label: string[];
  opt: string[];
}

/** An address, with or without a prefix length. */
const ipv4 = (text: string): number | undefined => splitCidr(text)?.ip ?? parseIPv4(text);

function subnetContains(subnet: string, addr: string): boolean {
  const [base, bits] = subnet.split('/');
  const b = ipv4(base ?? '');
  const a = ipv4(addr);
  const len = Number(bits);
  if (b === undefined || a === undefined || !Number.isInteger(len) || len < 0 || len > 32) return false;
  const size = 2 ** (32 - len);
  return Math.floor(a / size) === Math.floor(b / size);
}

/**
 * --subnet/--gateway/--ip-range → IPAM configs, as the docker CLI pairs them: each gateway and range goes with
 * the subnet that contains it (with one subnet, with that one).
 */
export function ipamConfigs(subnets: string[], gateways: string[], ranges: string[]): IPAMConfig[] {
  const configs: IPAMConfig[] = subnets.map((s) => ({ Subnet: s }));
  const place = (addr: string, key: 'Gateway' | 'IPRange', what: string) => {
    const matches = configs.filter((c) => configs.length === 1 || subnetContains(c.Subnet!, addr));
    if (matches.length === 0) throw new InvalidArgument(`no matching subnet for ${what} ${addr}`);
    if (matches.length > 1)
      throw new InvalidArgument(`multiple overlapping subnet configuration is not allowed`);
    if (matches[0]![key]) throw new InvalidArgument(`cannot configure multiple ${what}s for the same subnet`);
    matches[0]![key] = addr;
  };
  if (!subnets.length && (gateways.length || ranges.length))
    throw new InvalidArgument('every ip-range or gateway must have a corresponding subnet');
  for (const r of ranges) place(r, 'IPRange', 'range');
  for (const g of gateways) place(g, 'Gateway', 'gateway');
  return configs;
}

/** The POST /networks/create body for `network create` flags. */
export function networkCreateBody(name: string, f: NetworkCreateFlags): Record<string, unknown> {
  return {
    Name: name,
    Driver: f.driver,
    ...(f.scope ? { Scope: f.scope } : {}),
    Internal: !!f.internal,
    Attachable: !!f.attachable,
    Ingress: !!f.ingress,
    IPAM: {
      Driver: f.ipamDriver ?? 'default',
      Options: parseLabels(f.ipamOpt),
      Config: ipamConfigs(f.subnet, f.gateway, f.ipRange),
    },
    Options: parseLabels(f.opt),
    Labels: parseLabels(f.label),
  };
}

function filtersQuery(list: string[]): string {
  const filters: Record<string, Record<string, boolean>> = {};
  for (const f of list) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new CliError(`bad format of filter (expected name=value)`);
    (filters[f.slice(0, eq)] ??= {})[f.slice(eq + 1)] = true;
  }
  return encodeURIComponent(JSON.stringify(filters));
}

async function confirm(question: string): Promise<boolean> {
  process.stdout.write(`${question} [y/N] `);
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}

async function removeAll(client: ApiClient, refs: string[], force: boolean): Promise<void> {
  let failed = false;
  for (const r of refs) {
    try {
      await client.json('DELETE', `/networks/${encodeURIComponent(r)}`);
      process.stdout.write(`${r}\n`);
    } catch (err) {
      if (force && err instanceof ApiError && err.status === 404) continue;
      process.stderr.write(`${(err as Error).message}\n`);
      failed = true;
    }
  }
  if (failed) throw new CliError('', 1);
}

export function registerNetwork(program: Command): void {
  const network = program.command('network').description('Manage networks');

  network
    .command('create')
    .description('Create a network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'Driver to manage the Network', 'overlay')
    .option('--subnet <subnet>', 'Subnet in CIDR format that represents a network segment', collect, [])
    .option('--gateway <ip>', 'IPv4 Gateway for the master subnet', collect, [])
    .option('--ip-range <range>', 'Allocate container ip from a sub-range', collect, [])
    .option('--ipam-driver <driver>', 'IP Address Management Driver')
    .option('--ipam-opt <k=v>', 'Set IPAM driver specific options', collect, [])
    .option('--attachable', 'Enable manual container attachment')
    .option('--internal', 'Restrict external access to the network')
    .option('--ingress', 'Create swarm routing-mesh network')
    .option('--scope <scope>', "Control the network's scope")
    .option('--label <label>', 'Set metadata on a network', collect, [])
    .option('-o, --opt <k=v>', 'Set driver specific options', collect, [])
    .action(async (name: string, f: NetworkCreateFlags, cmd: Command) => {
      const { Id } = await clientOf(cmd).post<{ Id: string }>('/networks/create', networkCreateBody(name, f));
      process.stdout.write(`${Id}\n`);
    });

  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=overlay")', collect, [])
    .option('--format <format>', 'Format output using a template or "json"')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(
      async (o: { filter: string[]; format?: string; trunc: boolean; quiet?: boolean }, cmd: Command) => {
        const nets = await clientOf(cmd).get<NetworkResource[]>(
          `/networks?filters=${filtersQuery(o.filter)}`,
        );
        const id = (n: NetworkResource) => (o.trunc ? n.Id.slice(0, 12) : n.Id);
        if (o.quiet) return void process.stdout.write(nets.map((n) => id(n) + '\n').join(''));
        // The docker CLI's format context for networks.
        const rows = nets.map((n) => ({
          ID: id(n),
          Name: n.Name,
          Driver: n.Driver,
          Scope: n.Scope,
          IPv6: String(n.EnableIPv6),
          Internal: String(n.Internal),
          Labels: Object.entries(n.Labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          CreatedAt: n.Created,
        }));
        printList(rows, o.format, ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], (r) => [
          r.ID,
          r.Name,
          r.Driver,
          r.Scope,
        ]);
      },
    );

  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <format>', 'Format output using a template')
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .action(async (refs: string[], o: { format?: string; verbose?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const nets = await Promise.all(
        refs.map((r) =>
          client.get(`/networks/${encodeURIComponent(r)}`, o.verbose ? { verbose: true } : undefined),
        ),
      );
      if (o.format) process.stdout.write(nets.map((n) => applyFormat(o.format!, n)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(nets, null, 4) + '\n');
    });

  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (refs: string[], o: { force?: boolean }, cmd: Command) => {
      await removeAll(clientOf(cmd), refs, !!o.force);
    });

  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .action(async (o: { force?: boolean; filter: string[] }, cmd: Command) => {
      if (
        !o.force &&
        !(await confirm(
          'WARNING! This will remove all custom networks not used by at least one service.\nAre you sure you want to continue?',
        ))
      )
        return;
      const res = await clientOf(cmd).json<{ NetworksDeleted: string[] | null }>(
        'POST',
        `/networks/prune?filters=${filtersQuery(o.filter)}`,
      );
      const deleted = res.NetworksDeleted ?? [];
      if (deleted.length) process.stdout.write(`Deleted Networks:\n${deleted.join('\n')}\n`);
    });
}
