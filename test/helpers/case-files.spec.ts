import * as fs from 'node:fs';
import * as path from 'node:path';
import { caseFilesOf } from '../support/case-file-groups';

const TEST_DIR = path.join(__dirname, '..');

describe('end-to-end case files', () => {
  it('should run every test/*.e2e.ts case file from exactly one group file, and list no missing file', () => {
    const cases = fs
      .readdirSync(TEST_DIR)
      .filter((f) => f.endsWith('.e2e.ts'))
      .map((f) => f.slice(0, -'.e2e.ts'.length))
      .sort();
    const listed = fs
      .readdirSync(TEST_DIR)
      .filter((f) => f.endsWith('.e2e-spec.ts'))
      .flatMap((f) => caseFilesOf(path.join(TEST_DIR, f)) ?? [])
      .sort();
    expect(cases.length).toBeGreaterThan(0);
    expect(listed).toEqual(cases); // each once: a duplicate or an orphan changes the list
  });
});
