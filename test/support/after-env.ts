/**
 * Runs in every test file (jest.config.js `setupFilesAfterEnv`). Imports nothing, so unit specs
 * load nothing more: a file that reused in-memory databases (test/helpers/recycled-databases.ts)
 * left its instance on the global, and its end closes the databases still kept for reuse.
 */
const RECYCLED_DATABASES = Symbol.for('roomkey.test.recycledDatabases');

afterAll(async () => {
  const recycled = (globalThis as Record<symbol, { closeAll(): Promise<void> } | undefined>)[
    RECYCLED_DATABASES
  ];
  await recycled?.closeAll();
});
