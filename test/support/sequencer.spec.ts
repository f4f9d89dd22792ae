import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RoomkeySequencer = require('./sequencer') as {
  new (options: unknown): { sort(tests: FakeTest[]): FakeTest[] };
  order(files: string[], how: OrderInputs): string[];
  recordedDurations(file?: string): Map<string, number>;
  weight(file: string): number;
};

interface OrderInputs {
  failed: (file: string) => boolean;
  durationOf: (file: string) => number | undefined;
  weightOf: (file: string) => number;
}
interface FakeTest {
  path: string;
  context: { config: { cache: boolean; rootDir: string } };
}

const ROOT = path.join(__dirname, '..', '..');

/** The order test files start in (test/support/sequencer.js). */
describe('test sequencer', () => {
  const inputs = (
    durations: Record<string, number>,
    weights: Record<string, number> = {},
    failed: string[] = [],
  ): OrderInputs => ({
    failed: (f) => failed.includes(f),
    durationOf: (f) => durations[f],
    weightOf: (f) => weights[f] ?? 0,
  });

  it('should start the longest files first', () => {
    expect(RoomkeySequencer.order(['a', 'b', 'c'], inputs({ a: 5, b: 50, c: 20 }))).toEqual([
      'b',
      'c',
      'a',
    ]);
  });

  it('should start files without a duration before the others, the heaviest first', () => {
    const files = ['known', 'light', 'heavy'];
    expect(
      RoomkeySequencer.order(files, inputs({ known: 90 }, { light: 10, heavy: 900, known: 5 })),
    ).toEqual(['heavy', 'light', 'known']);
  });

  it('should start a file that failed last time before everything else', () => {
    expect(
      RoomkeySequencer.order(['a', 'b', 'c'], inputs({ a: 5, b: 50 }, { c: 100 }, ['a'])),
    ).toEqual(['a', 'c', 'b']);
  });

  it('should read the recorded durations, and none from a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-durations-'));
    try {
      const file = path.join(dir, 'durations.json');
      fs.writeFileSync(file, JSON.stringify({ seconds: { 'test/x.e2e-spec.ts': 12.5 } }));
      expect([...RoomkeySequencer.recordedDurations(file)]).toEqual([['test/x.e2e-spec.ts', 12.5]]);
      expect(RoomkeySequencer.recordedDurations(path.join(dir, 'none.json')).size).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should order a run without Jest's timings by the committed durations", () => {
    const recorded = RoomkeySequencer.recordedDurations();
    // The committed file covers most of the suite, and every file it names exists.
    expect(recorded.size).toBeGreaterThan(40);
    for (const file of recorded.keys()) expect(fs.existsSync(path.join(ROOT, file))).toBe(true);

    // Two files that size alone would put in the wrong order: the shorter one weighs more.
    const files = [...recorded.entries()].map(([file, seconds]) => ({
      file,
      seconds,
      weight: RoomkeySequencer.weight(path.join(ROOT, file)),
    }));
    const pair = files
      .flatMap((long) =>
        files
          .filter((short) => short.seconds < long.seconds && short.weight > long.weight)
          .map((short) => ({ long: long.file, short: short.file })),
      )
      .at(0);
    expect(pair).toBeDefined();
    const { long, short } = pair!;
    // cache: false is how Jest runs without timings (a fresh clone reads none either).
    const test = (file: string): FakeTest => ({
      path: path.join(ROOT, file),
      context: { config: { cache: false, rootDir: ROOT } },
    });
    const sorted = new RoomkeySequencer({}).sort([test(short), test(long)]);
    expect(sorted.map((t) => path.relative(ROOT, t.path))).toEqual([
      path.normalize(long),
      path.normalize(short),
    ]);
  });
});
