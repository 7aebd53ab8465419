import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The e2e suite runs bin/tsbuild as a user does, so it builds the checkout first
 * (incremental: seconds when nothing changed) and never tests a stale dist.
 */
export default function setup(): void {
  const repo = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync("pnpm", ["build"], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
}
