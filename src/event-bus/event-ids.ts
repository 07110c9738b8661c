import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** Random bytes drawn per id: 1 for the counter's seed on a new millisecond, 8 for rand_b (62 bits used). */
const BYTES_PER_ID = 9;
const POOL_IDS = 512;
const MAX_SEQUENCE = 0xfff;

/**
 * Event ids and times. Ids are UUIDv7 (RFC 9562): a 48-bit Unix-millisecond
 * timestamp, then a 12-bit counter (rand_a, method 1) so ids made by one bus
 * sort in creation order even within a millisecond, then 62 random bits.
 *
 * Why not the `uuid` package: its v7 and `toISOString()` cost about 0.5 µs
 * each, together a fifth of an in-memory publish. Here random bytes come from
 * a pool filled 512 ids at a time, and the ISO time is formatted once per
 * millisecond.
 */
export class EventIdGenerator {
  private readonly pool = Buffer.allocUnsafe(POOL_IDS * BYTES_PER_ID);
  private offset = this.pool.length;
  private lastMs = -1;
  private sequence = 0;
  private lastTime = '';
  private lastTimeMs = -1;

  /** A new id, and the ISO-8601 time of the millisecond in it. */
  next(): { id: string; time: string } {
    if (this.offset + BYTES_PER_ID > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const random = this.pool;
    const at = this.offset;
    this.offset += BYTES_PER_ID;

    let ms = Date.now();
    if (ms > this.lastMs) {
      // A new millisecond: start the counter low and random, leaving room to count up.
      this.sequence = random[at] << 2;
    } else {
      // Same millisecond, or the clock stepped back: keep counting from where we were.
      ms = this.lastMs;
      if (++this.sequence > MAX_SEQUENCE) {
        ms += 1;
        this.sequence = random[at] << 2;
      }
    }
    this.lastMs = ms;

    const high = Math.floor(ms / 0x10000);
    const id =
      HEX[(high >>> 24) & 0xff] +
      HEX[(high >>> 16) & 0xff] +
      HEX[(high >>> 8) & 0xff] +
      HEX[high & 0xff] +
      '-' +
      HEX[(ms >>> 8) & 0xff] +
      HEX[ms & 0xff] +
      '-' +
      HEX[0x70 | (this.sequence >>> 8)] +
      HEX[this.sequence & 0xff] +
      '-' +
      HEX[0x80 | (random[at + 1] & 0x3f)] +
      HEX[random[at + 2]] +
      '-' +
      HEX[random[at + 3]] +
      HEX[random[at + 4]] +
      HEX[random[at + 5]] +
      HEX[random[at + 6]] +
      HEX[random[at + 7]] +
      HEX[random[at + 8]];
    return { id, time: this.timeOf(ms) };
  }

  private timeOf(ms: number): string {
    if (ms !== this.lastTimeMs) {
      this.lastTime = new Date(ms).toISOString();
      this.lastTimeMs = ms;
    }
    return this.lastTime;
  }
}
