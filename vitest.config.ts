import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@tsbuild/oci": src("oci"),
      "@tsbuild/registry-client": src("registry-client"),
      "@tsbuild/builder": src("builder"),
      "@tsbuild/cli": src("cli"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // The slow end-to-end suite runs on its own: `pnpm test:e2e` (vitest.e2e.config.ts).
    exclude: ["**/node_modules/**", "test/e2e/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
