// `tsswarm image ls|inspect|import|pull|tag|rm|prune`.
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseReference } from '../../api/index.js';
import { clientOf, CliError } from '../context.js';
import { applyFormat, humanSize, printList } from '../format.js';

interface ImageSummaryBody {
  Id: string;
  RepoTags: string[];
  Created: number;
  Size: number;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

function splitRepoTag(ref: string): { repo: string; tag?: string } {
  const r = parseReference(ref);
  const colon = ref.lastIndexOf(':');
  return r.tag && colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: r.tag } : { repo: ref };
}

/** Prints Docker's JSON progress lines as text; an errorDetail line becomes the command's error. */
async function followProgress(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const line of createInterface({
    input: stream as NodeJS.ReadableStream & AsyncIterable<string>,
  })) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as {
      status?: string;
      id?: string;
      error?: string;
      progressDetail?: { current?: number; total?: number };
    };
    if (msg.error) throw new CliError(msg.error);
    if (msg.status === 'Downloading') continue; // byte counts are for terminals with cursor control
    process.stdout.write(`${msg.id ? `${msg.id}: ` : ''}${msg.status ?? ''}\n`);
  }
}

export function registerImage(program: Command): void {
  const image = program.command('image').description('Manage images');
  image
    .command('ls')
    .alias('list')
    .description('List images')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--format <format>', 'Format output using a template or "json"')
    .action(async (o: { quiet?: boolean; format?: string }, cmd: Command) => {
      const images = await clientOf(cmd).get<ImageSummaryBody[]>('/images/json');
      if (o.quiet) return void process.stdout.write(images.map((i) => short(i.Id) + '\n').join(''));
      const rows = images.flatMap((i) =>
        (i.RepoTags.length ? i.RepoTags : ['<none>:<none>']).map((t) => ({ ...i, tag: t })),
      );
      printList(rows, o.format, ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], (r) => {
        const colon = r.tag.lastIndexOf(':');
        return [
          r.tag.slice(0, colon),
          r.tag.slice(colon + 1),
          short(r.Id),
          new Date(r.Created * 1000).toISOString(),
          humanSize(r.Size),
        ];
      });
    });
  image
    .command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<image...>')
    .option('-f, --format <format>', 'Format output using a template')
    .action(async (refs: string[], o: { format?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const all = await Promise.all(refs.map((r) => client.get(`/images/${encodeURIComponent(r)}/json`)));
      if (o.format) process.stdout.write(all.map((i) => applyFormat(o.format!, i)).join('\n') + '\n');
      else process.stdout.write(JSON.stringify(all, null, 4) + '\n');
    });
  image
    .command('import')
    .description('Import a rootfs tarball (FILE or - for stdin) as an image')
    .argument('<file>')
    .argument('<reference>', 'NAME[:TAG]')
    .option('-m, --message <message>', 'Commit message for the imported image')
    .action(async (file: string, ref: string, o: { message?: string }, cmd: Command) => {
      const { repo, tag } = splitRepoTag(ref);
      const stream = file === '-' ? process.stdin : createReadStream(file);
      const res = await clientOf(cmd).raw('POST', '/images/create', {
        query: { fromSrc: '-', repo, tag, message: o.message },
        stream,
        contentType: 'application/x-tar',
      });
      for await (const line of createInterface({ input: res })) {
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as { status?: string; error?: string };
        if (msg.error) throw new CliError(msg.error);
        if (msg.status) process.stdout.write(`${msg.status}\n`);
      }
    });
  image
    .command('pull')
    .description('Pull an image from a registry')
    .argument('<reference>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const r = parseReference(ref);
      const { repo, tag } = r.digest ? { repo: ref, tag: undefined } : splitRepoTag(ref);
      const res = await clientOf(cmd).raw('POST', '/images/create', {
        query: { fromImage: repo, tag: tag ?? (r.digest ? undefined : 'latest') },
      });
      await followProgress(res);
    });
  image
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string, _o: unknown, cmd: Command) => {
      const { repo, tag } = splitRepoTag(target);
      await clientOf(cmd).json('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag } });
    });
  image
    .command('rm')
    .alias('remove')
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image')
    .action(async (refs: string[], o: { force?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      for (const ref of refs) {
        const report = await client.json<Record<string, string>[]>(
          'DELETE',
          `/images/${encodeURIComponent(ref)}`,
          {
            query: { force: o.force ? 1 : undefined },
          },
        );
        for (const entry of report)
          for (const [k, v] of Object.entries(entry)) process.stdout.write(`${k}: ${v}\n`);
      }
    });
  image
    .command('prune')
    .description('Remove unused (untagged) images')
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (_o: unknown, cmd: Command) => {
      const res = await clientOf(cmd).post<{
        ImagesDeleted: Record<string, string>[];
        SpaceReclaimed: number;
      }>('/images/prune');
      for (const entry of res.ImagesDeleted ?? [])
        for (const [k, v] of Object.entries(entry)) process.stdout.write(`${k.toLowerCase()}: ${v}\n`);
      process.stdout.write(`Total reclaimed space: ${humanSize(res.SpaceReclaimed)}\n`);
    });
}
