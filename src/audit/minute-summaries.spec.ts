import { type Logger } from '@nestjs/common';
import { MINUTE_MS, MinuteSummaries, type MinuteSummary } from './minute-summaries';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup(maxWindows = 100, overflow = true) {
  const written: Array<MinuteSummary<string>> = [];
  const errors: unknown[] = [];
  let fail = false;
  const logger = { error: (o: unknown) => errors.push(o) } as unknown as Logger;
  const s = new MinuteSummaries<string>({
    write: (w) => {
      if (fail) return Promise.reject(new Error('database down'));
      written.push({ ...w });
      return Promise.resolve();
    },
    maxWindows,
    overflow: overflow ? () => ({ key: 'overflow', item: 'overflow-item' }) : undefined,
    logger,
    failureMessage: 'could not write',
  });
  return { s, written, errors, failNext: (v: boolean) => (fail = v) };
}

/** Lets the sweep's promise chain settle under fake timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('MinuteSummaries', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 + 5_000 });
  });
  afterEach(() => jest.useRealTimers());

  it('should write one summary with the count and the window bounds when its minute has closed', async () => {
    const { s, written } = setup();
    s.start();
    for (let i = 0; i < 7; i++) s.note('alice', `alice-${i}`);
    s.note('bob', 'bob-0');

    jest.advanceTimersByTime(50_000); // T0+55s: still inside the minute, two sweeps ran
    await settle();
    expect(written).toEqual([]);

    jest.advanceTimersByTime(10_000); // T0+65s: the minute closed, the next sweep writes it
    await settle();
    expect(written).toEqual([
      { key: 'alice', first: 'alice-0', count: 7, from: T0, to: T0 + MINUTE_MS },
      { key: 'bob', first: 'bob-0', count: 1, from: T0, to: T0 + MINUTE_MS },
    ]);
    expect(s.size).toBe(0);
    await s.stop();
  });

  it('should start a new window for the same key when the minute turns', async () => {
    const { s, written } = setup();
    s.note('alice', 'a');
    jest.setSystemTime(T0 + MINUTE_MS + 1);
    s.note('alice', 'b');
    s.note('alice', 'c');
    await s.flush(false);
    expect(written).toEqual([{ key: 'alice', first: 'a', count: 1, from: T0, to: T0 + MINUTE_MS }]);
    await s.flush(true);
    expect(written[1]).toEqual({
      key: 'alice',
      first: 'b',
      count: 2,
      from: T0 + MINUTE_MS,
      to: T0 + 2 * MINUTE_MS,
    });
  });

  it('should write the open windows and stop sweeping when stopped', async () => {
    const { s, written } = setup();
    s.start();
    s.note('alice', 'a');
    await s.stop();
    expect(written.map((w) => [w.key, w.count])).toEqual([['alice', 1]]);
    s.note('alice', 'late');
    jest.advanceTimersByTime(5 * MINUTE_MS);
    await settle();
    expect(written).toHaveLength(1); // no sweep after stop
  });

  it('should fold new keys into the overflow window when the bound is reached', async () => {
    const { s, written } = setup(2);
    s.note('a', 'a');
    s.note('b', 'b');
    s.note('a', 'a2'); // an open key is still counted in its own window
    s.note('c', 'c');
    s.note('d', 'd');
    expect(s.size).toBe(3);
    await s.flush();
    expect(written.map((w) => [w.key, w.first, w.count])).toEqual([
      ['a', 'a', 2],
      ['b', 'b', 1],
      ['overflow', 'overflow-item', 2],
    ]);
  });

  it('should keep counting past the bound when no overflow is given', async () => {
    const { s } = setup(1, false);
    s.note('a', 'a');
    s.note('b', 'b');
    expect(s.size).toBe(2);
    await s.flush();
  });

  it('should log a failed write and go on with the next summary when the writer throws', async () => {
    const { s, written, errors, failNext } = setup();
    s.note('a', 'a');
    failNext(true);
    await s.flush();
    expect(errors).toHaveLength(1);
    failNext(false);
    s.note('b', 'b');
    await s.flush();
    expect(written.map((w) => w.key)).toEqual(['b']);
  });

  it('should write each window once when flushes overlap', async () => {
    const { s, written } = setup();
    s.note('a', 'a');
    await Promise.all([s.flush(), s.flush(), s.flush()]);
    expect(written).toHaveLength(1);
  });
});
