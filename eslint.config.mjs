// Flat config: type-checked rules over all TypeScript, zero warnings allowed (npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.data/', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through src/common/config only.',
        },
      ],
    },
  },
  {
    // Vendor rules live in src/providers/<vendor>/ behind the VideoProvider port: the session
    // layer, the compat routes and join links reach vendors only through ProviderRegistry.
    files: ['src/sessions/**', 'src/compat/**', 'src/join-links/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/*.adapter', '**/*.webhook', '**/*.credential'],
              message: 'Reach a vendor through ProviderRegistry (the VideoProvider port).',
            },
            {
              group: ['livekit-server-sdk', 'livekit-server-sdk/*', 'agora-token', 'agora-token/*'],
              message: 'Vendor SDKs belong in src/providers/<vendor>/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Configuration loading, scripts and tests may read the environment directly.
    files: ['src/common/config/**', 'scripts/**', 'test/**', 'bench/**', 'src/**/*.spec.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**', 'src/**/*.spec.ts', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  // Plain JavaScript (jest.config.js, the OIDC test provider script): no type information.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  // CommonJS by necessity (Jest loads these with require; the compile step loads the compiler).
  {
    files: [
      'jest.config.js',
      'test/support/esm-transform.js',
      'test/support/sequencer.js',
      'test/support/case-file-groups.js',
      'scripts/record-test-durations.cjs',
      'scripts/compile.cjs',
    ],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
