import { DEFAULT_SCRYPT, PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();
  const password = 'correct horse battery staple';
  let stored: string;

  beforeAll(async () => {
    stored = await hasher.hash(password);
  });

  it('stores scrypt with its parameters, a salt and the key, and never the password', () => {
    expect(stored).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain(password);
    expect(stored).not.toContain(Buffer.from(password).toString('base64url'));
  });

  it('uses the documented default cost', () => {
    expect(DEFAULT_SCRYPT).toEqual({ logN: 15, r: 8, p: 1 });
  });

  it('verifies the right password', async () => {
    await expect(hasher.verify(password, stored)).resolves.toBe(true);
  });

  it.each([
    ['a wrong password', 'correct horse battery stapler'],
    ['a different case', 'Correct horse battery staple'],
    ['an empty password', ''],
    ['a prefix', 'correct horse'],
  ])('refuses %s', async (_, attempt) => {
    await expect(hasher.verify(attempt, stored)).resolves.toBe(false);
  });

  it('salts every hash afresh, so equal passwords give different hashes that both verify', async () => {
    const again = await hasher.hash(password);
    expect(again).not.toBe(stored);
    expect(again.split('$')[2]).not.toBe(stored.split('$')[2]);
    await expect(hasher.verify(password, again)).resolves.toBe(true);
  });

  it('verifies a hash made with other parameters, read from the hash itself', async () => {
    const cheaper = await new PasswordHasher({ logN: 10, r: 8, p: 1 }).hash(password);
    expect(cheaper).toMatch(/^scrypt\$ln=10,r=8,p=1\$/);
    await expect(hasher.verify(password, cheaper)).resolves.toBe(true);
    await expect(hasher.verify('wrong password here', cheaper)).resolves.toBe(false);
  });

  it('handles passwords beyond ASCII', async () => {
    const unicode = 'pässwörd-with-ümlauts-и-кириллица-🔑';
    const hash = await hasher.hash(unicode);
    await expect(hasher.verify(unicode, hash)).resolves.toBe(true);
    await expect(hasher.verify(unicode.normalize('NFD'), hash)).resolves.toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['another algorithm', '$2b$10$abcdefghijklmnopqrstuv'],
    ['a cut-off hash', 'scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA'],
    ['an absurd cost that would exhaust the server', 'scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43)],
    ['a zero cost', 'scrypt$ln=0,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43)],
  ])('answers false, without throwing, for %s', async (_, malformed) => {
    await expect(hasher.verify(password, malformed)).resolves.toBe(false);
  });

  it('takes about as long for an unknown account (verifyNothing) as for a wrong password', async () => {
    const time = async (work: () => Promise<unknown>) => {
      const started = process.hrtime.bigint();
      await work();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const wrong = await time(() => hasher.verify('wrong password here', stored));
    const nothing = await time(() => hasher.verifyNothing('wrong password here'));
    await expect(hasher.verifyNothing(password)).resolves.toBe(false);
    // The same scrypt work either way; generous bounds keep this steady on a busy machine.
    expect(nothing).toBeGreaterThan(wrong / 4);
    expect(nothing).toBeLessThan(wrong * 4);
  });
});
