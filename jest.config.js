/** Unit specs live beside the code (src/**\/*.spec.ts); end-to-end specs in test/ boot the real app. */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
  maxWorkers: 2,
  testTimeout: 60000,
  injectGlobals: true,
};
