// Unique names and temporary directories for tests: `tss-` plus a short random id.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function uniqueName(prefix = 'tss'): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'tss-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
