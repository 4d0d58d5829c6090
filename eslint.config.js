// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The core takes time from an injected clock; Date.now() there would break virtual time.
      'no-restricted-syntax': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Use the injected Clock in src/core.' }],
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/adapters/**', '**/sim/**', '**/cim-api/**', '**/store/**', 'node:*'], message: 'src/core does no I/O and imports no outer layer (DESIGN.md).' },
      ] }],
    },
  },
);
