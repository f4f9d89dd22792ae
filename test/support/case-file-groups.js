/**
 * Reads a group file's list of end-to-end case files (test/helpers/case-files.ts) without running
 * it: for Jest's sequencer (plain CommonJS, before any test runs) and the test that checks every
 * case file is in exactly one group.
 */
const fs = require('node:fs');

/** The names a group file passes to `runCaseFiles([...])`, or null when it makes no such call. */
function caseFilesOf(groupFile) {
  const call = /runCaseFiles\(\[([^\]]*)\]\)/.exec(fs.readFileSync(groupFile, 'utf8'));
  return call ? [...call[1].matchAll(/'([^']+)'/g)].map((m) => m[1]) : null;
}

module.exports = { caseFilesOf };
