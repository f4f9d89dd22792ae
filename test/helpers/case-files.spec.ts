import * as fs from 'node:fs';
import * as path from 'node:path';

const TEST_DIR = path.join(__dirname, '..');

/** The case-file names each group file passes to runCaseFiles. */
function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of fs.readdirSync(TEST_DIR).filter((f) => f.endsWith('.e2e-spec.ts'))) {
    const text = fs.readFileSync(path.join(TEST_DIR, file), 'utf8');
    const call = /runCaseFiles\(\[([^\]]*)\]\)/.exec(text);
    if (call)
      out.set(
        file,
        [...call[1].matchAll(/'([^']+)'/g)].map((m) => m[1]),
      );
  }
  return out;
}

describe('end-to-end case files', () => {
  it('should run every test/*.e2e.ts case file from exactly one group file, and list no missing file', () => {
    const cases = fs
      .readdirSync(TEST_DIR)
      .filter((f) => f.endsWith('.e2e.ts'))
      .map((f) => f.slice(0, -'.e2e.ts'.length))
      .sort();
    const listed = [...groups().values()].flat().sort();
    expect(cases.length).toBeGreaterThan(0);
    expect(listed).toEqual(cases); // each once: a duplicate or an orphan changes the list
  });
});
