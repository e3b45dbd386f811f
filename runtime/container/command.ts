// How Docker merges an image's Entrypoint/Cmd/Env with a container's overrides.
import { InvalidArgument } from '../../api/index.js';

export interface ImageDefaults {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

export interface CommandOverrides {
  /** Replaces the image's Entrypoint (and then the image's Cmd is not used). */
  entrypoint?: string[];
  /** Replaces the image's Cmd. */
  args?: string[];
}

export function mergeCommand(image: ImageDefaults, o: CommandOverrides): string[] {
  const entrypoint = o.entrypoint ?? image.Entrypoint ?? [];
  const args = o.args ?? (o.entrypoint ? [] : (image.Cmd ?? []));
  const argv = [...entrypoint, ...args];
  if (argv.length === 0) throw new InvalidArgument('no command specified');
  return argv;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Image env, then the container's (same key replaces), with Docker's default PATH and HOSTNAME. */
export function mergeEnv(
  image: string[] | null | undefined,
  container: string[] | undefined,
  hostname: string,
): string[] {
  const out = new Map<string, string>();
  const put = (kv: string) => {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  };
  put(DEFAULT_PATH);
  put(`HOSTNAME=${hostname}`);
  for (const e of image ?? []) put(e);
  for (const e of container ?? []) put(e);
  return [...out.values()];
}
