import test from 'ava';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wal, WalCorruption, SnapshotStore, crc32c, EntryType, type Entry } from '../../../raft/index.js';
import { tempDir } from '../../support/temp.js';

const ent = (index: number, term: number, data = `e${index}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: Buffer.from(data),
});
const idx = (es: Entry[]) => es.map((e) => `${e.index}@${e.term}`);

test('crc32c matches the standard check value and continues across calls', (t) => {
  t.is(crc32c(Buffer.from('123456789')), 0xe3069283);
  const a = Buffer.from('hello, ');
  const b = Buffer.from('write-ahead log');
  t.is(crc32c(b, crc32c(a)), crc32c(Buffer.concat([a, b])));
  t.is(crc32c(Buffer.alloc(0)), 0);
});

test('entries and hard state survive reopening; a conflicting append replaces the suffix', async (t) => {
  const d = tempDir();
  try {
    let { wal } = await Wal.open(d.path);
    await wal.save({ term: 1, vote: 'a', commit: 0 }, [ent(1, 1), ent(2, 1), ent(3, 1)], true);
    await wal.save({ term: 2, vote: 'b', commit: 1 }, [ent(2, 2), ent(3, 2)], true);
    await wal.save({ term: 2, vote: 'b', commit: 3 }, [], true);
    await wal.close();
    const r = await Wal.open(d.path);
    wal = r.wal;
    t.deepEqual(r.state.hardState, { term: 2, vote: 'b', commit: 3 });
    t.deepEqual(idx(r.state.entries), ['1@1', '2@2', '3@2']);
    t.is(Buffer.from(r.state.entries[2]!.data).toString(), 'e3');
    await wal.close();
  } finally {
    d.remove();
  }
});

test('truncating the last frame at every byte offset still opens with all earlier entries', async (t) => {
  const d = tempDir();
  try {
    const { wal } = await Wal.open(d.path);
    await wal.save({ term: 1, vote: '', commit: 0 }, [ent(1, 1), ent(2, 1)], true);
    const seg = join(
      d.path,
      readdirSync(d.path)
        .filter((n) => n.endsWith('.wal'))
        .sort()
        .at(-1)!,
    );
    const before = statSync(seg).size;
    await wal.save(undefined, [ent(3, 1, 'x'.repeat(100))], true);
    await wal.close();
    const full = readFileSync(seg);
    for (let cut = before; cut < full.length; cut++) {
      writeFileSync(seg, full.subarray(0, cut));
      // Remove segments a previous open created, so each round starts from the same files.
      for (const n of readdirSync(d.path))
        if (join(d.path, n) !== seg && n.endsWith('.wal'))
          (await import('node:fs')).unlinkSync(join(d.path, n));
      const r = await Wal.open(d.path);
      t.deepEqual(idx(r.state.entries), ['1@1', '2@1'], `cut at ${cut}`);
      await r.wal.close();
    }
    writeFileSync(seg, full);
    for (const n of readdirSync(d.path))
      if (join(d.path, n) !== seg && n.endsWith('.wal'))
        (await import('node:fs')).unlinkSync(join(d.path, n));
    const whole = await Wal.open(d.path);
    t.deepEqual(idx(whole.state.entries), ['1@1', '2@1', '3@1']);
    await whole.wal.close();
  } finally {
    d.remove();
  }
});

test('a flipped byte before the tail is reported with file and offset', async (t) => {
  const d = tempDir();
  try {
    const { wal } = await Wal.open(d.path);
    for (let i = 1; i <= 10; i++) await wal.save({ term: 1, vote: '', commit: i - 1 }, [ent(i, 1)], false);
    await wal.close();
    const seg = join(
      d.path,
      readdirSync(d.path)
        .filter((n) => n.endsWith('.wal'))
        .sort()[0]!,
    );
    const buf = readFileSync(seg);
    const at = Math.floor(buf.length / 2);
    buf[at] = buf[at]! ^ 0xff;
    writeFileSync(seg, buf);
    const err = await t.throwsAsync(Wal.open(d.path), { instanceOf: WalCorruption });
    t.regex(err!.message, new RegExp(`^wal: corrupt record in ${seg} at offset \\d+: checksum mismatch`));
  } finally {
    d.remove();
  }
});

test('segments roll over, and a snapshot releases the ones it covers', async (t) => {
  const d = tempDir();
  try {
    const { wal } = await Wal.open(d.path, { segmentBytes: 4096 });
    for (let i = 1; i <= 200; i++)
      await wal.save({ term: 1, vote: '', commit: i }, [ent(i, 1, 'y'.repeat(50))], false);
    const before = wal.segmentCount();
    t.true(before > 3, `${before} segments`);
    await wal.saveSnapshot(150, 1);
    t.true(wal.segmentCount() < before);
    await wal.save({ term: 1, vote: '', commit: 201 }, [ent(201, 1)], true);
    await wal.close();
    const r = await Wal.open(d.path, { segmentBytes: 4096 });
    t.deepEqual(r.state.snapshot, { index: 150, term: 1 });
    t.is(r.state.entries[0]!.index, 151);
    t.is(r.state.entries.at(-1)!.index, 201);
    t.is(r.state.hardState.commit, 201);
    await r.wal.close();
  } finally {
    d.remove();
  }
});

test('snapshot files: newest intact one loads; a damaged newest falls back; old ones are pruned', async (t) => {
  const d = tempDir();
  try {
    const store = new SnapshotStore(d.path, 2);
    const snap = (index: number) => ({
      meta: { index, term: 1, conf: { voters: ['a'], learners: [] } },
      data: Buffer.from(`state@${index}`),
    });
    await store.save(snap(10));
    await store.save(snap(20));
    await store.save(snap(30));
    t.is(readdirSync(d.path).filter((n) => n.endsWith('.snap')).length, 2);
    t.is((await store.loadNewest())!.meta.index, 30);
    const newest = join(d.path, readdirSync(d.path).sort().at(-1)!);
    truncateSync(newest, 10);
    const s = (await store.loadNewest())!;
    t.is(s.meta.index, 20);
    t.is(Buffer.from(s.data).toString(), 'state@20');
  } finally {
    d.remove();
  }
});
