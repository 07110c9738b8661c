import { randomBytes, scrypt as scryptCallback, ScryptOptions, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';

/** scrypt cost parameters; each hash records its own, so raising them later keeps old hashes verifiable. */
export interface ScryptParameters {
  /** CPU/memory cost, as log2(N). */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * N = 2^15, r = 8: 32 MiB and roughly 100 ms per hash on a small server. Higher
 * costs (OWASP suggests up to 2^17) multiply the memory each concurrent login
 * holds on libuv's thread pool; this keeps a login burst from exhausting memory.
 */
export const DEFAULT_SCRYPT: ScryptParameters = { logN: 15, r: 8, p: 1 };

/** Overrides DEFAULT_SCRYPT (e.g. to raise the cost); optional. */
export const SCRYPT_PARAMETERS = Symbol('SCRYPT_PARAMETERS');

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'scrypt';
const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;
/** Refuse stored parameters beyond these: a tampered row must not make one verification eat the server. */
const MAX_LOG_N = 20;
const MAX_R = 16;
const MAX_P = 4;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function scryptOptions({ logN, r, p }: ScryptParameters): ScryptOptions {
  const N = 2 ** logN;
  // Node refuses above 32 MiB by default; scrypt needs 128 * N * r bytes, give it that plus headroom.
  return { N, r, p, maxmem: 128 * N * r * 2 };
}

/**
 * Slow, salted password hashes with Node's scrypt (no native add-on to keep
 * up to date). Stored as `scrypt$ln=15,r=8,p=1$<salt>$<key>` (base64url), a
 * fresh random salt per hash, compared in constant time.
 */
@Injectable()
export class PasswordHasher {
  private readonly parameters: ScryptParameters;

  constructor(@Optional() @Inject(SCRYPT_PARAMETERS) parameters?: ScryptParameters) {
    this.parameters = parameters ?? DEFAULT_SCRYPT;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await scrypt(password, salt, KEY_BYTES, scryptOptions(this.parameters));
    const { logN, r, p } = this.parameters;
    return `${PREFIX}$ln=${logN},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  /** True when `password` is the one `stored` was made from; false for a wrong password or a malformed hash. */
  async verify(password: string, stored: string): Promise<boolean> {
    const match = FORMAT.exec(stored);
    if (!match) return false;
    const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (logN < 1 || logN > MAX_LOG_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
    const expected = Buffer.from(match[5], 'base64url');
    const actual = await scrypt(password, Buffer.from(match[4], 'base64url'), expected.length, scryptOptions({ logN, r, p }));
    return timingSafeEqual(actual, expected);
  }

  /**
   * Spends what a verification costs and answers false: for a login with an
   * unknown email, so it takes as long as a wrong password and timing does
   * not tell whether the account exists.
   */
  async verifyNothing(password: string): Promise<false> {
    await this.hash(password);
    return false;
  }
}
