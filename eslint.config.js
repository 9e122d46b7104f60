// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One OpenTelemetry API for the whole process. Two copies of @opentelemetry/api of different minors do not see
    // each other's registered SDK (the API refuses an older global), so instruments and spans made through a
    // service's own copy were silently no-ops. Everything goes through @collab/observability's re-exports.
    files: ['**/*.ts'],
    ignores: ['packages/observability/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@opentelemetry/*'],
              message: 'Import OpenTelemetry through @collab/observability (one API instance per process).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
