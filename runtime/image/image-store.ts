// The image store: configs and layer blobs (BlobStore), unpacked layers (LayerStore) and a tags index, all
// under <data-root>/image. Mutations run one at a time; the index is rewritten atomically after each.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Conflict, familiarString, InvalidArgument, NotFound, parseReference } from '../../api/index.js';
import { BlobStore } from './blob-store.js';
import { writeFileAtomic } from './fs-util.js';
import { LayerStore } from './layer-store.js';
import type { ImageConfig, ImageResolver, ResolvedImage } from './types.js';

/** The image config blob (OCI image-spec config / Docker image JSON), the parts we read. */
export interface ImageConfigBlob {
  architecture: string;
  os: string;
  created?: string;
  config?: ImageConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string }[];
}

interface ImageRecord {
  created: string;
  size: number;
}

interface IndexFile {
  images: Record<string, ImageRecord>;
  tags: Record<string, string>;
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  created: string;
  size: number;
}

export type RemoveReport = ({ Untagged: string } | { Deleted: string })[];

/** Canonical "name:tag" key for the tags index ("busybox:local", "127.0.0.1:5000/x:1"). */
export function tagKey(ref: string): string {
  const r = parseReference(ref);
  if (r.digest && !r.tag) throw new InvalidArgument(`refusing to tag with a digest reference: ${ref}`);
  return familiarString({ ...r, digest: undefined });
}

export class ImageStore implements ImageResolver {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  private index: IndexFile = { images: {}, tags: {} };
  private queue: Promise<unknown> = Promise.resolve();
  private inUse: (imageId: string) => boolean = () => false;

  constructor(
    readonly root: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.blobs = new BlobStore(join(root, 'blobs'));
    this.layers = new LayerStore(join(root, 'layers'));
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await this.blobs.start();
    await this.layers.start();
    try {
      this.index = JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as IndexFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  stop(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  setInUse(check: (imageId: string) => boolean): void {
    this.inUse = check;
  }

  count(): number {
    return Object.keys(this.index.images).length;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private save(): Promise<void> {
    return writeFileAtomic(join(this.root, 'index.json'), JSON.stringify(this.index));
  }

  private tagsOf(id: string): string[] {
    return Object.entries(this.index.tags)
      .filter(([, v]) => v === id)
      .map(([k]) => k)
      .sort();
  }

  /** Finds an image id by full id, short id (hex prefix), or name[:tag]. */
  lookup(ref: string): string {
    const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
    if (/^[a-f0-9]{64}$/.test(hex) && this.index.images[`sha256:${hex}`]) return `sha256:${hex}`;
    if (/^[a-f0-9]{4,63}$/.test(hex)) {
      const hits = Object.keys(this.index.images).filter((id) => id.slice(7).startsWith(hex));
      if (hits.length === 1) return hits[0];
    }
    let key: string;
    try {
      key = tagKey(ref);
    } catch {
      throw new NotFound(`No such image: ${ref}`);
    }
    const id = this.index.tags[key];
    if (!id) throw new NotFound(`No such image: ${ref}`);
    return id;
  }

  async configOf(id: string): Promise<ImageConfigBlob> {
    return JSON.parse((await this.blobs.read(id)).toString('utf8')) as ImageConfigBlob;
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    const id = this.lookup(ref);
    const cfg = await this.configOf(id);
    const layerDirs: string[] = [];
    for (const diffId of cfg.rootfs.diff_ids) {
      if (!(await this.layers.has(diffId))) throw new NotFound(`layer ${diffId} of image ${id} is missing`);
      layerDirs.push(this.layers.dirOf(diffId));
    }
    return {
      id,
      repoTags: this.tagsOf(id),
      config: cfg.config ?? {},
      layerDirs,
      platform: { os: cfg.os, architecture: cfg.architecture },
    };
  }

  list(): ImageSummary[] {
    return Object.entries(this.index.images)
      .map(([id, rec]) => ({ id, repoTags: this.tagsOf(id), created: rec.created, size: rec.size }))
      .sort((a, b) => b.created.localeCompare(a.created));
  }

  record(id: string): ImageSummary {
    const rec = this.index.images[id];
    if (!rec) throw new NotFound(`No such image: ${id}`);
    return { id, repoTags: this.tagsOf(id), created: rec.created, size: rec.size };
  }

  /** Registers an image whose config blob is stored and whose layers are unpacked; tags it. */
  commit(id: string, size: number, created: string, tag?: string): Promise<string> {
    return this.exclusive(async () => {
      this.index.images[id] ??= { created, size };
      if (tag) this.index.tags[tagKey(tag)] = id;
      await this.save();
      return id;
    });
  }

  /** `docker import`: a rootfs tar (or tar.gz) becomes a one-layer image tagged `ref`. */
  async importRootfs(source: Readable | Buffer, ref: string, message = ''): Promise<string> {
    const tag = tagKey(ref);
    // The tar is only unpacked, never kept as a blob: it is staged in a file of this import's own.
    const layer = await this.blobs.stage(source);
    let diffId: string;
    try {
      diffId = await this.layers.unpack(layer.path);
    } finally {
      await layer.discard();
    }
    const created = this.now().toISOString();
    const config: ImageConfigBlob = {
      architecture: hostArchitecture(),
      os: 'linux',
      created,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: 'tsswarm image import', comment: message || 'Imported from tarball' }],
    };
    const { digest } = await this.blobs.put(Buffer.from(JSON.stringify(config)));
    return this.commit(digest, layer.size, created, tag);
  }

  tag(source: string, target: string): Promise<void> {
    return this.exclusive(async () => {
      const id = this.lookup(source);
      this.index.tags[tagKey(target)] = id;
      await this.save();
    });
  }

  /** `docker rmi`: a tag of a multi-tagged image is only untagged; otherwise the image goes. */
  remove(ref: string, force = false): Promise<RemoveReport> {
    return this.exclusive(async () => {
      const id = this.lookup(ref);
      const tags = this.tagsOf(id);
      const byTag = !ref.startsWith('sha256:') && !id.slice(7).startsWith(ref) ? tagKey(ref) : undefined;
      if (byTag && tags.length > 1) {
        delete this.index.tags[byTag];
        await this.save();
        return [{ Untagged: byTag }];
      }
      if (!byTag && tags.length > 1 && !force)
        throw new Conflict(
          `unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
        );
      if (this.inUse(id) && !force)
        throw new Conflict(
          `conflict: unable to remove image ${ref} (must force) - image is being used by a container`,
        );
      return this.deleteImage(id);
    });
  }

  /** Removes every untagged image no container uses. */
  prune(): Promise<{ deleted: RemoveReport; spaceReclaimed: number }> {
    return this.exclusive(async () => {
      const deleted: RemoveReport = [];
      let spaceReclaimed = 0;
      for (const [id, rec] of Object.entries(this.index.images)) {
        if (this.tagsOf(id).length > 0 || this.inUse(id)) continue;
        deleted.push(...(await this.deleteImage(id)));
        spaceReclaimed += rec.size;
      }
      return { deleted, spaceReclaimed };
    });
  }

  private async deleteImage(id: string): Promise<RemoveReport> {
    const report: RemoveReport = this.tagsOf(id).map((t) => ({ Untagged: t }));
    for (const t of this.tagsOf(id)) delete this.index.tags[t];
    const cfg = await this.configOf(id);
    delete this.index.images[id];
    await this.save();
    const stillUsed = new Set<string>();
    for (const other of Object.keys(this.index.images))
      for (const d of (await this.configOf(other)).rootfs.diff_ids) stillUsed.add(d);
    for (const d of cfg.rootfs.diff_ids) if (!stillUsed.has(d)) await this.layers.remove(d);
    await this.blobs.remove(id);
    report.push({ Deleted: id });
    return report;
  }
}

export function hostArchitecture(): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return map[process.arch] ?? process.arch;
}
