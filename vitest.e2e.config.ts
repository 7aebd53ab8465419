import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The end-to-end suite (`pnpm test:e2e`): the examples/ and docker interoperability, slow cases
 * (apt, compiling, a dockerd) kept out of the fast suite. `.ci/run` runs it after `pnpm test`.
 */
export default defineConfig({
  // The same source aliases as the fast suite (only the test settings differ).
  resolve: base.resolve,
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
