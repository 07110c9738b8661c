import { createHash } from 'node:crypto';

/**
 * Which password a session was opened with, without storing anything that
 * helps guess it: a SHA-256 of the (salted scrypt) password hash, so a new
 * password, or the same one set again with a new salt, gives a new stamp.
 */
export function passwordStampOf(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('hex');
}
