/**
 * Jest's own order (files that failed last time first, then the longest last time first), with one
 * change for a run without timings (a fresh clone, a cleared cache): Jest then takes the largest
 * file first, and a group file (test/helpers/case-files.ts) is a few lines long though it runs
 * several case files. Here it weighs as much as the case files it lists, so the long groups start
 * first instead of last.
 */
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const { caseFilesOf } = require('./case-file-groups');

function weight(file) {
  const own = fs.statSync(file).size;
  return (caseFilesOf(file) ?? [])
    .map((name) => fs.statSync(path.join(path.dirname(file), `${name}.e2e.ts`)).size)
    .reduce((a, b) => a + b, own);
}

class RoomkeySequencer extends Sequencer {
  sort(tests) {
    if (tests.some((test) => this.time(test) != null)) return super.sort(tests);
    const weights = new Map(tests.map((test) => [test.path, weight(test.path)]));
    return [...tests].sort((a, b) => weights.get(b.path) - weights.get(a.path));
  }
}

module.exports = RoomkeySequencer;
