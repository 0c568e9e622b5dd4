// Lint: ESLint's and typescript-eslint's recommended rules over the connector and its tests. The
// layering of src/ (which folder may import which) is dependency-cruiser's (.dependency-cruiser.cjs),
// the formatting Prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Built output, ajv's generated validators, and the AssemblyScript source (its own types: i32, u8…).
  { ignores: ['dist/', 'build/', 'node_modules/', 'src/cli/generated/', 'src/json/wasm/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // An argument named with a leading underscore is unused on purpose (an interface's shape); a
      // binding beside a rest element takes its key out of the rest.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `declare namespace` states globals no loaded library declares (WebAssembly without the DOM library).
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
);
