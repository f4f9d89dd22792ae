/**
 * Three tiers (README "Tests"): unit specs beside the code (src/**\/*.spec.ts), the service tier in
 * test/service (domain services on a real database, fake vendors), end-to-end specs in test/.
 * A few dependencies ship only as ES modules (jose, openid-client and its oauth4webapi, cockatiel):
 * Node 20.19+ requires them natively, Jest does not, so test/support/esm-transform.js transpiles
 * them to CommonJS here.
 */
const ESM_ONLY = ['jose', 'openid-client', 'oauth4webapi', 'cockatiel'];

module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'mjs', 'json', 'ts'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '^.+\\.m?js$': '<rootDir>/test/support/esm-transform.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  testEnvironment: 'node',
  // Migrates once per run (a PGlite snapshot, a PostgreSQL template) instead of once per app.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Closes the in-memory databases a test file kept for reuse (test/helpers/recycled-databases.ts).
  setupFilesAfterEnv: ['<rootDir>/test/support/after-env.ts'],
  // Jest's order, except that a run without timings weighs a group file by its case files.
  testSequencer: '<rootDir>/test/support/sequencer.js',
  // Three workers on this two-core machine: e2e specs wait on timeouts, child processes and
  // vendor emulators, and a third worker fills those waits. Whole embedded suite, same commit,
  // quiet machine: 549 s with two workers, 480 s with three (CPU 972 s and 900 s).
  maxWorkers: 3,
  // A worker whose heap passed 350 MB after a test file is replaced by a new one. Every PGlite open
  // allocates 128 MB of WebAssembly memory, and V8 answers with a full garbage collection (one per
  // open, --trace-gc); in a worker that has run a few test files that collection walks a heap of
  // several hundred MB. test/helpers/recycled-databases.spec.ts alone took 41 to 45 s of CPU
  // late in a worker against 13 s in a young one. Whole embedded suite, warm, same clone: 299 s wall
  // and 549 s CPU with a 700 MB limit (two replacements), 256 s / 476 s with 350 MB (seven).
  workerIdleMemoryLimit: '350MB',
  // Generous: a few e2e tests start several apps or processes while other workers run.
  testTimeout: 120000,
};
