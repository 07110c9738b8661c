import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from './embedded-file';

describe('writeFileAtomically', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'appserver-atomic-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('creates the file, then replaces it whole, leaving no temporary file behind', async () => {
    const file = join(folder, 'db.sqlite');

    await writeFileAtomically(file, Buffer.from('first version'));
    await writeFileAtomically(file, Buffer.from('second'));

    expect(await readFile(file, 'utf8')).toBe('second');
    expect(await readdir(folder)).toEqual(['db.sqlite']);
  });

  it('fails without touching the file when the folder is missing', async () => {
    await expect(writeFileAtomically(join(folder, 'missing', 'db.sqlite'), Buffer.from('x'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(folder)).toEqual([]);
  });
});
