// Writes test/support/durations.json from the results of a whole-suite run, for the order a fresh
// clone's first run starts its test files in (test/support/sequencer.js). Record a passing run of
// the whole embedded suite on a quiet machine, with a warm Jest cache:
//   NODE_OPTIONS=--experimental-vm-modules npx jest --json --outputFile=/tmp/run.json
//   node scripts/record-test-durations.cjs /tmp/run.json
const fs = require('node:fs');
const path = require('node:path');

const [input] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node scripts/record-test-durations.cjs <jest --json output>\n');
  process.exit(2);
}
const run = JSON.parse(fs.readFileSync(input, 'utf8'));
if (!run.success) {
  process.stderr.write(`${input} is not a passing run; durations of failed files mislead\n`);
  process.exit(1);
}
const root = path.join(__dirname, '..');
const seconds = Object.fromEntries(
  run.testResults
    .map((file) => [
      path.relative(root, file.name).split(path.sep).join('/'),
      Math.round((file.endTime - file.startTime) / 100) / 10,
    ])
    .sort(([a], [b]) => (a < b ? -1 : 1)),
);
const outside = Object.keys(seconds).find((file) => file.startsWith('..'));
if (outside) {
  process.stderr.write(`${input} ran files outside this checkout (${outside}); run it here\n`);
  process.exit(1);
}
const out = path.join(root, 'test', 'support', 'durations.json');
fs.writeFileSync(out, `${JSON.stringify({ seconds }, null, 2)}\n`);
process.stdout.write(`${Object.keys(seconds).length} files -> ${path.relative(root, out)}\n`);
