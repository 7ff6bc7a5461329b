// ESLint for the TypeScript sources (flat config). Formatting is Prettier's job,
// so only rules about correctness and the architecture's import direction live here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.venv/**', '.e2e/**', '.cache/**', 'models/**', 'runs/**', 'backend/**', 'media/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off', // invisible/bidi character handling matches control characters on purpose
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests read untyped wire JSON and the workbench page's internals (inside page.evaluate).
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The engine must stay usable outside VS Code (CLI, reward service, tests).
    files: ['src/engine/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The engine and CLI must not depend on VS Code.' }] }],
    },
  },
  {
    // Extension layers point one way: commands → views → services → engine.
    files: ['src/extension/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/views/**', '**/commands/**', '../views', '../commands'], message: 'services must not import views or commands' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/extension/views/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/commands/**', '../commands'], message: 'views must not import commands' }] },
      ],
    },
  },
);
