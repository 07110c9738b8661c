/**
 * The password rules, in one place for the API and the first admin. Length is
 * what resists guessing; composition rules mostly push people to predictable
 * patterns (NIST SP 800-63B), so there are none.
 */
export const PASSWORD_MIN_LENGTH = 12;

/** Hashing a very long input costs the server, not the caller: cap it well above any passphrase. */
export const PASSWORD_MAX_LENGTH = 256;

export const PASSWORD_TOO_SHORT =
  `password must be at least ${PASSWORD_MIN_LENGTH} characters: shorter ones fall quickly to offline guessing ` +
  'if the hashes ever leak; a passphrase of a few unrelated words is long and easy to remember';

export const PASSWORD_TOO_LONG = `password must be at most ${PASSWORD_MAX_LENGTH} characters`;

/** Why `password` is refused, or null when it meets the policy (the reasons never repeat the password). */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return PASSWORD_TOO_SHORT;
  if (password.length > PASSWORD_MAX_LENGTH) return PASSWORD_TOO_LONG;
  return null;
}
