// Runs ip/bridge/nft/nsenter for the data plane. The node cannot enter a namespace itself, so every
// per-namespace step is a child process; callers batch their lines so one change costs one process.
import { spawn } from 'node:child_process';

/**
 * nftables by full path: under npm (and so in tests) node_modules/.bin comes first on PATH, and ava brings an
 * unrelated `nft` (@vercel/nft) there.
 */
export const NFT = '/usr/sbin/nft';

/** Runs argv (with `input` on stdin) and resolves with stdout; rejects with the command's own stderr. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit code ${code}`}`);
  }
}

/**
 * A runner that puts `prefix` before every command, e.g. ['nsenter', '--net=/run/netns/HOST'] so a test can
 * run a node's data plane inside a lab host's namespace; the product's daemon already runs in its own.
 */
export function commandRunner(prefix: string[] = []): CommandRunner {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const full = [...prefix, ...argv];
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => reject(new CommandError(full, null, e.message)));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError(full, code, err))));
      // A command that exits before reading its stdin must not turn into an EPIPE crash.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
}
