import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates the folder of the embedded database file, so the quick start needs no setup. */
export function ensureFolderOf(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}

/**
 * Replaces `file` with `data` all at once: written to a temporary file next to
 * it, flushed to disk, then renamed over it. sql.js rewrites the whole database
 * on every commit; a plain overwrite killed halfway would leave a torn file and
 * lose every row, while a rename leaves either the old or the new database.
 */
export async function writeFileAtomically(file: string, data: Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
}
