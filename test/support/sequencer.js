/**
 * The order test files start in. Jest's own rule: files that failed last time first, then the
 * longest first, so the long ones do not run alone at the end. Jest knows durations only from
 * earlier runs of the same checkout; a fresh clone or a cleared cache has none, and Jest then takes
 * the largest file first, which on this suite started several of the longest files last and cost
 * about 45 s of a 340 s run. So a file without a duration of its own takes the one recorded in
 * test/support/durations.json (a whole-suite run on the project's two-core machine; refreshed with
 * scripts/record-test-durations.cjs). A file with neither still goes first, as in Jest, weighed by
 * size; a group file (test/helpers/case-files.ts) weighs as much as the case files it lists.
 */
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const { caseFilesOf } = require('./case-file-groups');

const RECORDED = path.join(__dirname, 'durations.json');

/** Seconds per test file, keyed by its path from the project root with forward slashes. */
function recordedDurations(file = RECORDED) {
  if (!fs.existsSync(file)) return new Map();
  return new Map(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')).seconds));
}

function weight(file) {
  const own = fs.statSync(file).size;
  return (caseFilesOf(file) ?? [])
    .map((name) => fs.statSync(path.join(path.dirname(file), `${name}.e2e.ts`)).size)
    .reduce((a, b) => a + b, own);
}

/**
 * Sorts `files` (absolute paths): failed first, then files with no known duration (largest
 * first), then the rest by duration, longest first. `durationOf` gives milliseconds or undefined.
 */
function order(files, { failed, durationOf, weightOf }) {
  const known = new Map(files.map((f) => [f, durationOf(f)]));
  const weights = new Map();
  const weighed = (f) => weights.get(f) ?? weights.set(f, weightOf(f)).get(f);
  return [...files].sort((a, b) => {
    if (failed(a) !== failed(b)) return failed(a) ? -1 : 1;
    const da = known.get(a);
    const db = known.get(b);
    if ((da == null) !== (db == null)) return da == null ? -1 : 1;
    if (da != null && db != null && da !== db) return db - da;
    return weighed(b) - weighed(a);
  });
}

class RoomkeySequencer extends Sequencer {
  sort(tests) {
    const recorded = recordedDurations();
    const byPath = new Map(tests.map((test) => [test.path, test]));
    const relative = (test) =>
      path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/');
    const durationOf = (file) => {
      const test = byPath.get(file);
      const own = this.time(test);
      if (own != null) return own;
      const seconds = recorded.get(relative(test));
      return seconds == null ? undefined : seconds * 1000;
    };
    const files = order([...byPath.keys()], {
      failed: (file) => this.hasFailed(byPath.get(file)),
      durationOf,
      weightOf: weight,
    });
    return files.map((file) => byPath.get(file));
  }
}

module.exports = RoomkeySequencer;
module.exports.order = order;
module.exports.recordedDurations = recordedDurations;
module.exports.weight = weight;
