/**
 * The form an email is stored and looked up in: trimmed and lower case, so
 * `Alice@Example.com` and `alice@example.com` are one account (mail systems
 * treat them alike in practice) and the unique constraint sees them as equal.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Longest address the SMTP standard allows (RFC 5321 path limit). */
export const MAX_EMAIL_LENGTH = 254;
