// A ContainerManager over a temp data root with busybox:local imported, for runtime system tests; and the
// cleanup every such test ends with (containers, mounts, cgroups), also when the test failed.
import { join } from 'node:path';
import { createLogger } from '../../../api/index.js';
import {
  ContainerManager,
  ImageStore,
  readLogLines,
  removeIdleCgroupParent,
  runcDelete,
  runcList,
  type CreateBody,
} from '../../../runtime/index.js';
import { unmountUnder } from '../../../deploy/lab/index.js';
import { importBusybox } from '../../support/busybox-image.js';
import { tempDir, uniqueName, type TempDir } from '../../support/temp.js';

export interface ManagerFixture {
  dir: TempDir;
  images: ImageStore;
  manager: ContainerManager;
  /** Creates and starts a container (unique tss- name); returns its id. */
  run(body: Omit<CreateBody, 'Image'> & { Image?: string }): Promise<string>;
  logs(id: string): string;
  cleanup(): Promise<void>;
}

export async function managerFixture(): Promise<ManagerFixture> {
  const dir = tempDir();
  const images = new ImageStore(join(dir.path, 'image'));
  await images.start();
  await importBusybox(images);
  const manager = new ContainerManager({
    dataRoot: dir.path,
    images,
    log: createLogger({ test: 'runtime' }),
  });
  await manager.start();
  return {
    dir,
    images,
    manager,
    async run(body) {
      const { Id } = await manager.create({ Image: 'busybox:local', ...body }, uniqueName());
      await manager.startContainer(Id);
      return Id;
    },
    logs(id) {
      const rec = manager.get(id);
      return readLogLines(manager.logPath(id), rec.Log.maxFile)
        .map((l) => l.text)
        .join('');
    },
    async cleanup() {
      for (const r of manager.list()) await manager.remove(r.Id, { force: true }).catch(() => undefined);
      await manager.stop();
      await cleanupDataRoot(dir.path);
      dir.remove();
    },
  };
}

/** Deletes whatever runc containers, mounts and idle cgroups a data root still has. */
export async function cleanupDataRoot(dataRoot: string): Promise<void> {
  const env = { root: join(dataRoot, 'runc') };
  for (const s of await runcList(env).catch(() => []))
    await runcDelete(env, s.id, true).catch(() => undefined);
  await unmountUnder(dataRoot);
  removeIdleCgroupParent();
}

export async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
