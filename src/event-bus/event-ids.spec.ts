import { EventIdGenerator } from './event-ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a UUIDv7 carries in its first 48 bits. */
const millisecondsOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('EventIdGenerator', () => {
  afterEach(() => jest.restoreAllMocks());

  it('makes UUIDv7 ids whose timestamp and time are the moment they were made', () => {
    const ids = new EventIdGenerator();
    const before = Date.now();
    const { id, time } = ids.next();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisecondsOf(id)).toBeLessThanOrEqual(after);
    expect(Date.parse(time)).toBe(millisecondsOf(id));
    expect(time).toBe(new Date(millisecondsOf(id)).toISOString());
  });

  it('makes ids that sort in creation order, within a millisecond too, and never repeat', () => {
    const ids = new EventIdGenerator();
    const made = Array.from({ length: 50_000 }, () => ids.next().id);
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    for (const id of made) expect(id).toMatch(UUID_V7);
  });

  it('keeps counting when thousands of ids fall in one millisecond, moving into the next one', () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 22, 8, 0, 0, 0));
    const ids = new EventIdGenerator();
    const made = Array.from({ length: 10_000 }, () => ids.next());
    expect([...made.map((m) => m.id)].sort()).toEqual(made.map((m) => m.id));
    expect(new Set(made.map((m) => m.id)).size).toBe(made.length);
    expect(millisecondsOf(made[made.length - 1].id)).toBeGreaterThan(millisecondsOf(made[0].id));
    for (const { id, time } of made) expect(Date.parse(time)).toBe(millisecondsOf(id));
  });

  it('stays in order when the clock steps back', () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 22, 8, 0, 0, 500));
    const ids = new EventIdGenerator();
    const first = ids.next().id;
    now.mockReturnValue(Date.UTC(2026, 10, 22, 8, 0, 0, 100));
    const second = ids.next().id;
    expect(second > first).toBe(true);
  });

  it('uses the random bits: ids made by two generators in one millisecond differ', () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 22, 8, 0, 0, 0));
    const a = Array.from({ length: 100 }, () => new EventIdGenerator().next().id);
    expect(new Set(a.map((id) => id.slice(19))).size).toBe(100);
  });
});
