// `tsswarm secret|config create|ls|inspect|rm`.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { shortId, type Config, type Secret } from '../../api/index.js';
import { readAll } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat, printList } from '../format.js';
import { ago } from '../human-time.js';
import { parseLabels } from '../service/parse-opts.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function register(program: Command, kind: 'secret' | 'config'): void {
  const group = program.command(kind).description(`Manage swarm ${kind}s`);
  group
    .command('create')
    .description(`Create a ${kind} from a file or STDIN as content`)
    .argument('<name>')
    .argument('<file|->')
    .option('-l, --label <label>', `${kind} labels`, collect, [])
    .action(async (name: string, file: string, opts: { label: string[] }, cmd: Command) => {
      const data = file === '-' ? await readAll(process.stdin) : readFileSync(file);
      const { ID } = await clientOf(cmd).post<{ ID: string }>(`/${kind}s/create`, {
        Name: name,
        Labels: parseLabels(opts.label),
        Data: data.toString('base64'),
      });
      process.stdout.write(`${ID}\n`);
    });
  group
    .command('ls')
    .alias('list')
    .description(`List ${kind}s`)
    .option('--format <format>', 'Format output using a template or "json"')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (opts: { format?: string; quiet?: boolean }, cmd: Command) => {
      const items = await clientOf(cmd).get<(Secret | Config)[]>(`/${kind}s`);
      if (opts.quiet) return void process.stdout.write(items.map((i) => i.ID + '\n').join(''));
      const headers =
        kind === 'secret'
          ? ['ID', 'NAME', 'DRIVER', 'CREATED', 'UPDATED']
          : ['ID', 'NAME', 'CREATED', 'UPDATED'];
      printList(items, opts.format, headers, (i) => [
        shortId(i.ID, 25),
        i.Spec.Name,
        ...(kind === 'secret' ? [''] : []),
        ago(i.CreatedAt),
        ago(i.UpdatedAt),
      ]);
    });
  group
    .command('inspect')
    .description(`Display detailed information on one or more ${kind}s`)
    .argument('<name...>')
    .option('-f, --format <format>', 'Format output using a template')
    .action(async (refs: string[], opts: { format?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const items = await Promise.all(refs.map((r) => client.get(`/${kind}s/${encodeURIComponent(r)}`)));
      if (opts.format) process.stdout.write(items.map((i) => applyFormat(opts.format!, i)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(items, null, 4) + '\n');
    });
  group
    .command('rm')
    .alias('remove')
    .description(`Remove one or more ${kind}s`)
    .argument('<name...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = false;
      for (const r of refs) {
        try {
          await client.json('DELETE', `/${kind}s/${encodeURIComponent(r)}`);
          process.stdout.write(`${r}\n`);
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    });
}

export function registerSecretAndConfig(program: Command): void {
  register(program, 'secret');
  register(program, 'config');
}
