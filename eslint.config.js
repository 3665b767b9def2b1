// ESLint: typescript-eslint's strict rules over all TypeScript and JavaScript in the repository; formatting is
// Prettier's (eslint-config-prettier switches off the rules that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.ros2/', '.demo/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // The one strict rule left out. tsconfig sets noUncheckedIndexedAccess, so every `a[i]` is `T | undefined`;
      // the numeric code (AR1 maths, tensors, CDR, ring buffers) indexes arrays inside bounds it has just checked,
      // and `a[i]!` states that without a branch per element in the inner loops.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `_`-prefixed names are deliberately unused (a callback's leading parameters, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  { files: ['test/**'], languageOptions: { globals: { ...globals.mocha } } },
  {
    // Mirrors the shapes of rclnodejs's generated typings (its conditional types over `any`, its empty maps).
    files: ['types/**/*.d.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-empty-object-type': 'off' },
  },
  prettier,
);
