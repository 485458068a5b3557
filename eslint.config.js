// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'demo-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config.ts reads the environment.' },
      ],
    },
  },
  {
    // The floors: table rows stay inside src/store (everything above reads domain types), and
    // commands/ is reached only from the entry and wiring files.
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    ignores: ['src/store/**', 'src/app.ts', 'src/deploy.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/store/schema.js'],
              message: 'Table shapes stay in src/store; use the domain types in src/domain.',
            },
            {
              group: ['**/store/usage-repository.js'],
              importNames: ['UsageRow', 'NewUsageRow'],
              message: 'Rows stay in src/store; use TrackRecord from src/domain/track.ts.',
            },
            {
              group: ['**/commands/*'],
              message: 'Only src/app.ts and src/deploy.ts import commands/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../limits/*',
                '../discord/*',
                '../web/*',
                '../voice/*',
                '../songwriting/*',
                '**/commands/*',
              ],
              message: 'The store sits below these floors; put what both need in src/domain.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*'], message: 'src/domain is the bottom floor: it imports no other.' }] },
      ],
    },
  },
  {
    files: ['src/config.ts', 'test/**', 'bench/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
