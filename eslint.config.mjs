import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "build/**", "node_modules/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        { object: "describe", property: "only", message: "Focused tests skip the rest of the suite." },
        { object: "it", property: "only", message: "Focused tests skip the rest of the suite." },
      ],
    },
  },
);
