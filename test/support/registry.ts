// A real Distribution registry for pull tests: Debian's docker-registry on 127.0.0.1 with a random port and a
// temp storage dir; plus a push helper that builds a docker-archive and copies it in with skopeo.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxTar } from './busybox-image.js';
import { waitFor } from './daemon-process.js';
import { freePort } from './net.js';
import { tempDir, type TempDir } from './temp.js';

const run = promisify(execFile);

export interface Registry {
  /** "127.0.0.1:<port>" */
  host: string;
  storage: string;
  stop(): Promise<void>;
}

export async function startRegistry(extraYaml = ''): Promise<Registry> {
  const dir = tempDir();
  const port = await freePort();
  const storage = join(dir.path, 'storage');
  mkdirSync(storage);
  const config = join(dir.path, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      extraYaml,
    ].join('\n'),
  );
  const fd = openSync(join(dir.path, 'registry.log'), 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    dir.remove();
  };
  try {
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/v2/`);
        return res.status === 200 || res.status === 401;
      },
      15_000,
      `docker-registry on 127.0.0.1:${port}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, storage, stop };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** A docker-archive (docker save format) with one layer (busybox by default) and the given config section. */
export async function busyboxArchive(
  dir: TempDir,
  config: Record<string, unknown> = {},
  layerTar = busyboxTar(),
): Promise<string> {
  const root = join(dir.path, 'archive');
  mkdirSync(root, { recursive: true });
  copyFileSync(layerTar, join(root, 'layer.tar'));
  const diffId = await sha256File(join(root, 'layer.tar'));
  const imageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: new Date().toISOString(),
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], ...config },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
  };
  const configText = JSON.stringify(imageConfig);
  const configName = `${createHash('sha256').update(configText).digest('hex')}.json`;
  writeFileSync(join(root, configName), configText);
  writeFileSync(
    join(root, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [], Layers: ['layer.tar'] }]),
  );
  const out = join(dir.path, 'busybox-archive.tar');
  await run('tar', ['-C', root, '-cf', out, '.']);
  return out;
}

/** Pushes an archive to `<registry>/<repoTag>` with skopeo (plain HTTP). */
export async function pushArchive(
  archive: string,
  registryHost: string,
  repoTag: string,
  creds?: string,
): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (creds) args.push('--dest-creds', creds);
  await run('skopeo', [...args, `docker-archive:${archive}`, `docker://${registryHost}/${repoTag}`], {
    timeout: 60_000,
  });
}
