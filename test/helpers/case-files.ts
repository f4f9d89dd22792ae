import * as path from 'node:path';

/**
 * Runs end-to-end case files (`test/<name>.e2e.ts`) inside the calling Jest test file, each in its
 * own `describe` named after its path, so its hooks, apps and emulators stay scoped to its cases.
 *
 * Why: Jest loads every module again for every test file. Loading the application's module graph
 * (about 3,100 modules) and warming up its first app costs about 4 s of CPU per file on this
 * machine, and the suite is CPU-bound, so case files that need no process of their own share one
 * load. Each group file (`test/<group>.e2e-spec.ts`) lists its case files. To run one case file:
 * `npx jest test/<group>.e2e-spec.ts -t 'test/<name>.e2e.ts'`.
 */
export function runCaseFiles(names: readonly string[]): void {
  for (const name of names) {
    const file = `test/${name}.e2e.ts`;
    describe(file, () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(__dirname, '..', `${name}.e2e`));
    });
  }
}
