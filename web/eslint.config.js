// The root config, plus what React Router needs: its generated route types are not ours to lint, and
// loaders and actions throw Responses (redirects, 404s) on purpose.
import root from '../eslint.config.js';

export default [
  ...root,
  { ignores: ['.react-router/**', 'build/**', 'screenshots/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/only-throw-error': ['error', { allow: [{ from: 'lib', name: 'Response' }] }],
    },
  },
  {
    // The end-to-end fixtures read JSON answers of real HTTP calls, like the tests that use them.
    files: ['test/e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
];
