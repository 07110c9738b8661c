/**
 * AMQP 0-9-1 topic matching, implemented once and used by both transports so
 * that `app.*`, `*.created`, `app.#` and `#` mean the same in memory as on
 * RabbitMQ: words are dot-separated, `*` is exactly one word, `#` is zero or
 * more words.
 */
export type TopicMatcher = (routingKey: string) => boolean;

const WORD = /^[A-Za-z0-9_-]+$/;

/** Throws with the reason when `pattern` is not a valid topic pattern. */
export function assertValidTopicPattern(pattern: string): void {
  if (pattern.length === 0 || pattern.length > 255) {
    throw new Error(`Invalid topic pattern "${pattern}": must be 1-255 characters`);
  }
  for (const word of pattern.split('.')) {
    if (word !== '*' && word !== '#' && !WORD.test(word)) {
      throw new Error(
        `Invalid topic pattern "${pattern}": "${word}" must be "*", "#" or a word of letters, digits, "_" or "-"`,
      );
    }
  }
}

export function compileTopicPattern(pattern: string): TopicMatcher {
  assertValidTopicPattern(pattern);
  const words = pattern.split('.');
  if (!words.includes('*') && !words.includes('#')) return (key) => key === pattern;
  if (pattern === '#') return () => true;
  return (key) => matchWords(words, 0, key.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  while (p < pattern.length) {
    const word = pattern[p];
    if (word === '#') {
      if (p === pattern.length - 1) return true;
      // `#` may swallow any number of words: try every split point.
      for (let skip = k; skip <= key.length; skip++) {
        if (matchWords(pattern, p + 1, key, skip)) return true;
      }
      return false;
    }
    if (k >= key.length) return false;
    if (word !== '*' && word !== key[k]) return false;
    p++;
    k++;
  }
  return k === key.length;
}
