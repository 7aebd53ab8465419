import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runCli } from "../../packages/cli/src/testing.js";
import type { TestRegistry } from "./registry.js";
import { ok } from "./timings.js";

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../scripts/debian-base.sh", import.meta.url));

/**
 * debianBaseTarball returns the path of the Debian bookworm minbase root
 * filesystem tarball that scripts/debian-base.sh makes with debootstrap from
 * the host's mirror, cached outside the checkout ($TSBUILD_TEST_CACHE, else
 * ~/.cache/tsbuild-test): minutes the first time (as root), instant afterwards.
 */
export async function debianBaseTarball(): Promise<string> {
  const { stdout } = await exec("bash", [SCRIPT], { maxBuffer: 1 << 24 });
  return stdout.trim();
}

/**
 * pushDebianBase imports the Debian base (CMD ["bash"], as the registry's
 * images have) into a throwaway store `seedRoot` and pushes it to `registry` as
 * `repository:latest` (default `library/ubuntu`, what `FROM ubuntu:latest`
 * names on Docker Hub). It returns the pushed reference.
 */
export async function pushDebianBase(
  registry: TestRegistry,
  options: { seedRoot: string; repository?: string; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const tarball = await debianBaseTarball();
  const ref = `${registry.host}/${options.repository ?? "library/ubuntu"}:latest`;
  const env = { ...(options.env ?? process.env), TSBUILD_ROOT: options.seedRoot };
  ok(
    "import the Debian base",
    await runCli(["image", "import", "--change", 'CMD ["bash"]', tarball, ref], { env }),
  );
  ok("push the Debian base", await runCli(["push", ref], { env }));
  return ref;
}
