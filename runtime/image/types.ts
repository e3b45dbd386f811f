// The image store's contract with the container side: resolve a reference to an unpacked, ready-to-mount image.
import type { HealthConfig } from '../../api/index.js';

export interface ImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
}

export interface ResolvedImage {
  /** "sha256:<hex>" digest of the image config blob */
  id: string;
  /** e.g. ["busybox:local"] */
  repoTags: string[];
  /** the OCI/Docker image config's `config` section */
  config: ImageConfig;
  /** unpacked layer directories, LOWEST FIRST, usable as overlayfs lowerdirs */
  layerDirs: string[];
  platform: { os: string; architecture: string };
}

export interface ImageResolver {
  /** by name[:tag], name@digest, full or short id; throws NotFound("No such image: <ref>") */
  resolve(ref: string): Promise<ResolvedImage>;
}
