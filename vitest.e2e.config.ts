import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

/**
 * The end-to-end suite (`pnpm test:e2e`): the examples/ and docker interoperability, slow cases
 * (apt, compiling, a dockerd) kept out of the fast suite. `.ci/run` runs it after `pnpm test`.
 */
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
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/build.setup.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    passWithNoTests: true,
    fileParallelism: false,
    pool: "forks",
  },
});
