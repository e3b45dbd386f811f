// Pull throughput from a local docker-registry: our puller vs `skopeo copy` to a directory, same image, same run.
// The image is one ~50 MiB layer of random (incompressible) data. Run: flock /tmp/tss-heavy.lock npx tsx test/bench/runtime-pull.ts
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, pullImage } from '../../runtime/image/index.js';
import { busyboxArchive, pushArchive, startRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

const MIB = 1024 * 1024;
const SIZE = 50 * MIB;
const ROUNDS = 3;

async function main(): Promise<void> {
  const dir = tempDir();
  const registry = await startRegistry();
  try {
    const src = join(dir.path, 'layer');
    mkdirSync(src);
    writeFileSync(join(src, 'blob.bin'), randomBytes(SIZE));
    const layerTar = join(dir.path, 'layer.tar');
    execFileSync('tar', ['-C', src, '-cf', layerTar, '.']);
    await pushArchive(await busyboxArchive(dir, {}, layerTar), registry.host, 'tss/bench:1');
    const ref = `${registry.host}/tss/bench:1`;
    const ours: number[] = [];
    const skopeo: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const store = new ImageStore(join(dir.path, `store-${i}`));
      await store.start();
      let t0 = performance.now();
      await pullImage(store, ref);
      ours.push(performance.now() - t0);
      t0 = performance.now();
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `dir:${join(dir.path, `skopeo-${i}`)}`,
      ]);
      skopeo.push(performance.now() - t0);
    }
    const mibs = (ms: number[]) => ms.map((m) => ((SIZE / MIB / m) * 1000).toFixed(1));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    process.stdout.write(
      [
        `image: one ${SIZE / MIB} MiB layer (random data), registry ${registry.host}`,
        `tsswarm pull (download + verify + unpack): ${ours.map((m) => m.toFixed(0)).join(', ')} ms -> ${mibs(ours).join(', ')} MiB/s; median ${((SIZE / MIB / median(ours)) * 1000).toFixed(1)} MiB/s`,
        `skopeo copy to dir (download only):      ${skopeo.map((m) => m.toFixed(0)).join(', ')} ms -> ${mibs(skopeo).join(', ')} MiB/s; median ${((SIZE / MIB / median(skopeo)) * 1000).toFixed(1)} MiB/s`,
      ].join('\n') + '\n',
    );
  } finally {
    await registry.stop();
    dir.remove();
  }
}

await main();
