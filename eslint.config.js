// Lint rules that the type checker cannot express: promises must be awaited or handled,
// no import cycles, no `any` in runtime code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";

export default tseslint.config(
  { ignores: ["node_modules/**", "data/**", "coverage/**", "runtime/schemas/generated/**", ".scaffold-*/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver": { node: { extensions: [".ts", ".js"] } } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": ["error", { maxDepth: Infinity, ignoreExternal: true }],
      // Dependencies point one way: agents/* -> runtime/. The runtime knows no specific agent.
      "import-x/no-restricted-paths": [
        "error",
        { zones: [{ target: "./runtime", from: "./agents", message: "runtime/ must not import from agents/: move what every agent may use into runtime/, or keep it in the agent" }] },
      ],
      // Handlers are async by contract (they return a Promise) even when they do not await.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Tests may poke at loosely typed fixtures; runtime code may not.
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
