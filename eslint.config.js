import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const node = {
  process: 'readonly',
  console: 'readonly',
  require: 'readonly',
  setTimeout: 'readonly',
  setImmediate: 'readonly',
  performance: 'readonly',
  URL: 'readonly',
  fetch: 'readonly',
  Buffer: 'readonly',
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.dash/', 'coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: node },
  },
)
