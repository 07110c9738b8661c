import { createHash, randomBytes } from 'node:crypto';

/** 256 bits from the OS's CSPRNG: unguessable, so a token needs no signature, only a lookup. */
export const SESSION_TOKEN_BYTES = 32;

/** 32 bytes in base64url, without padding. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer +(\S+) *$/i;

/** A new opaque session token, handed to the client once and never stored. */
export function newSessionToken(): string {
  return randomBytes(SESSION_TOKEN_BYTES).toString('base64url');
}

/**
 * What the database keeps instead of the token: its SHA-256, hex. A fast hash
 * is enough for 256 random bits (nothing to brute-force), and a leaked
 * sessions table then holds nothing that logs anyone in.
 */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before any lookup: garbage never reaches the database. */
export function isWellFormedSessionToken(value: string): boolean {
  return TOKEN_FORMAT.test(value);
}

/** The token of an `Authorization: Bearer <token>` value (HTTP header or graphql-ws connectionParams); null otherwise. */
export function bearerTokenOf(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  return BEARER.exec(authorization)?.[1] ?? null;
}
