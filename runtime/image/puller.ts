// `docker pull`: resolves a reference to one platform's manifest, downloads the config and any layers not
// yet unpacked (each verified against its digest before it is kept), then registers and tags the image.
// Nothing is registered until every layer is in place, so a failed pull leaves no image behind.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { InvalidArgument, familiarString, parseReference, type ImageReference } from '../../api/index.js';
import { DigestMismatch } from './blob-store.js';
import { hostArchitecture, type ImageConfigBlob, type ImageStore } from './image-store.js';
import { RegistryClient, type Credentials } from './registry-client.js';

export interface PullProgress {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export interface PullOptions {
  credentials?: Credentials;
  timeoutMs?: number;
  onProgress?: (p: PullProgress) => void;
  platform?: { os: string; architecture: string };
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};
const ACCEPT = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest];

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}
interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function shortId(digest: string): string {
  return digest.slice(7, 19);
}

async function fetchManifest(client: RegistryClient, reference: string, expected?: string) {
  const { body, mediaType } = await client.manifest(reference, ACCEPT);
  if (expected && sha256(body) !== expected) throw new DigestMismatch(expected, sha256(body));
  let parsed: Manifest;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Manifest;
  } catch {
    throw new InvalidArgument(`registry ${client.domain}: manifest ${reference} is not JSON`);
  }
  return { manifest: parsed, mediaType: parsed.mediaType ?? mediaType, digest: sha256(body) };
}

/** Picks the wanted platform from an index / manifest list. */
export function choosePlatform(list: Descriptor[], want: { os: string; architecture: string }): Descriptor {
  const hit = list.find((d) => d.platform?.os === want.os && d.platform.architecture === want.architecture);
  if (!hit)
    throw new InvalidArgument(
      `no matching manifest for ${want.os}/${want.architecture} in the manifest list entries`,
    );
  return hit;
}

export async function pullImage(store: ImageStore, refText: string, opts: PullOptions = {}): Promise<string> {
  const ref: ImageReference = parseReference(refText);
  const progress = opts.onProgress ?? (() => undefined);
  const client = new RegistryClient(ref.domain, ref.path, {
    credentials: opts.credentials,
    timeoutMs: opts.timeoutMs,
  });
  progress({
    status: `Pulling from ${familiarString({ ...ref, tag: undefined, digest: undefined })}`,
    id: ref.tag ?? ref.digest,
  });

  let top = await fetchManifest(client, ref.digest ?? ref.tag!, ref.digest);
  if (top.manifest.manifests) {
    const d = choosePlatform(
      top.manifest.manifests,
      opts.platform ?? { os: 'linux', architecture: hostArchitecture() },
    );
    top = await fetchManifest(client, d.digest, d.digest);
  }
  const { config, layers } = top.manifest;
  if (!config || !layers) throw new InvalidArgument(`unsupported manifest type ${top.mediaType}`);

  const configBody = Buffer.concat(await (await client.blob(config.digest)).toArray());
  if (sha256(configBody) !== config.digest) throw new DigestMismatch(config.digest, sha256(configBody));
  const cfg = JSON.parse(configBody.toString('utf8')) as ImageConfigBlob;
  const diffIds = cfg.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length)
    throw new InvalidArgument(
      `image config lists ${diffIds.length} layers but the manifest has ${layers.length}`,
    );

  let size = 0;
  for (const [i, layer] of layers.entries()) {
    const id = shortId(layer.digest);
    size += layer.size;
    if (await store.layers.has(diffIds[i]!)) {
      progress({ status: 'Already exists', id, progressDetail: {} });
      continue;
    }
    progress({ status: 'Pulling fs layer', id, progressDetail: {} });
    let last = 0;
    const blob = await store.blobs.put(await client.blob(layer.digest), layer.digest, (n) => {
      if (n - last >= 512 * 1024 || n === layer.size) {
        last = n;
        progress({ status: 'Downloading', id, progressDetail: { current: n, total: layer.size } });
      }
    });
    progress({ status: 'Verifying Checksum', id, progressDetail: {} });
    progress({ status: 'Download complete', id, progressDetail: {} });
    try {
      await store.layers.unpack(store.blobs.pathOf(blob.digest), diffIds[i]!);
    } finally {
      await rm(store.blobs.pathOf(blob.digest), { force: true });
    }
    progress({ status: 'Pull complete', id, progressDetail: {} });
  }
  const { digest } = await store.blobs.put(configBody, config.digest);
  const tag = ref.tag ? familiarString({ ...ref, digest: undefined }) : undefined;
  await store.commit(digest, size, cfg.created ?? new Date(0).toISOString(), tag);
  progress({ status: `Digest: ${top.digest}` });
  progress({ status: `Status: Downloaded newer image for ${familiarString(ref)}` });
  return digest;
}
