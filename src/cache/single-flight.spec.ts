import { Gate, waitFor } from '../../test/support/wait-for';
import { FlightHandle, SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('runs one task for 100 concurrent callers of one key, and all get its result', async () => {
    const flights = new SingleFlight<string>();
    const gate = new Gate();
    const task = jest.fn(async () => {
      await gate.opened;
      return 'loaded';
    });
    const results = Array.from({ length: 100 }, () => flights.run('k', task));
    gate.open();
    expect(await Promise.all(results)).toEqual(Array(100).fill('loaded'));
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('runs tasks of different keys side by side', async () => {
    const flights = new SingleFlight<string>();
    const gate = new Gate();
    const started: string[] = [];
    const run = (key: string) =>
      flights.run(key, async () => {
        started.push(key);
        await gate.opened;
        return key;
      });
    const results = [run('a'), run('b')];
    await waitFor(() => started.length === 2, 'both tasks to start');
    gate.open();
    expect(await Promise.all(results)).toEqual(['a', 'b']);
  });

  it('gives every waiter the rejection and does not remember it', async () => {
    const flights = new SingleFlight<string>();
    const gate = new Gate();
    const failing = jest.fn(async () => {
      await gate.opened;
      throw new Error('database down');
    });
    const results = Array.from({ length: 100 }, () => flights.run('k', failing));
    gate.open();
    const settled = await Promise.allSettled(results);
    expect(settled.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'database down')).toBe(true);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(flights.size).toBe(0);

    await expect(flights.run('k', async () => 'recovered')).resolves.toBe('recovered');
  });

  it('turns a synchronous throw into a rejection', async () => {
    const flights = new SingleFlight<string>();
    await expect(
      flights.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(flights.size).toBe(0);
  });

  it('starts a new task after the previous one settled', async () => {
    const flights = new SingleFlight<number>();
    let calls = 0;
    const task = async () => ++calls;
    expect(await flights.run('k', task)).toBe(1);
    expect(await flights.run('k', task)).toBe(2);
  });

  describe('detach', () => {
    it('makes later callers start a fresh task while earlier ones keep the old result', async () => {
      const flights = new SingleFlight<string>();
      const gates = [new Gate(), new Gate()];
      const handles: FlightHandle[] = [];
      let call = 0;
      const task = async (handle: FlightHandle) => {
        const mine = call++;
        handles.push(handle);
        await gates[mine].opened;
        return `v${mine}`;
      };
      const before = flights.run('user:1', task);
      flights.detach((key) => key.startsWith('user:'));
      const after = flights.run('user:1', task);

      gates[1].open();
      expect(await after).toBe('v1');
      gates[0].open();
      expect(await before).toBe('v0');
      expect(handles.map((h) => h.detached)).toEqual([true, false]);
      expect(flights.size).toBe(0);
    });

    it('leaves flights of other keys alone', async () => {
      const flights = new SingleFlight<string>();
      const gate = new Gate();
      let handle: FlightHandle | undefined;
      const running = flights.run('app:x', async (h) => {
        handle = h;
        await gate.opened;
        return 'x';
      });
      flights.detach((key) => key.startsWith('user:'));
      expect(flights.size).toBe(1);
      gate.open();
      await running;
      expect(handle?.detached).toBe(false);
    });

    it('does not let the detached flight remove its successor when it settles', async () => {
      const flights = new SingleFlight<string>();
      const first = new Gate();
      const second = new Gate();
      const old = flights.run('k', async () => {
        await first.opened;
        return 'old';
      });
      flights.detach(() => true);
      const fresh = flights.run('k', async () => {
        await second.opened;
        return 'fresh';
      });
      first.open();
      await old;
      // The fresh flight is still joinable: a third caller shares it.
      const third = flights.run('k', async () => 'third');
      second.open();
      expect(await Promise.all([fresh, third])).toEqual(['fresh', 'fresh']);
    });
  });
});
