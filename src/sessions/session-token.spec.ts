import { createHash } from 'node:crypto';
import { bearerTokenOf, hashSessionToken, isWellFormedSessionToken, newSessionToken } from './session-token';

describe('session tokens', () => {
  it('are 256 random bits in base64url, different every time', () => {
    const tokens = Array.from({ length: 1000 }, newSessionToken);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      expect(isWellFormedSessionToken(token)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('are stored as their SHA-256 in hex, which does not contain them', () => {
    const token = newSessionToken();
    const hash = hashSessionToken(token);
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token);
  });

  it.each(['', 'short', 'x'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `])('refuses the malformed token %p', (value) => {
    expect(isWellFormedSessionToken(value)).toBe(false);
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
  ])('reads the token from %p', (header, token) => {
    expect(bearerTokenOf(header)).toBe(token);
  });

  it.each([undefined, null, 42, '', 'abc', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Token abc'])('finds no bearer token in %p', (header) => {
    expect(bearerTokenOf(header)).toBeNull();
  });
});
