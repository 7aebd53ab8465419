import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatPlatform, hostPlatform, normalizePlatform, type Platform } from "@tsbuild/oci";
import { BuildError } from "../errors.js";

/** displayPlatform is a platform as docker prints it: `linux/arm64`, not the normalised `linux/arm64/v8`. */
export function displayPlatform(p: Platform): string {
  return formatPlatform(normalizePlatform(p)).replace(/^([^/]+\/arm64)\/v8$/, "$1");
}

/** BINFMT_DIR is where the kernel lists binfmt_misc handlers (mounted by systemd or binfmt-support). */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/**
 * QEMU_NAMES are the binfmt_misc handler names (`qemu-<name>`) that Debian's qemu-user-static and
 * tonistiigi/binfmt register, by OCI architecture.
 */
const QEMU_NAMES: Readonly<Record<string, string>> = {
  amd64: "x86_64",
  arm64: "aarch64",
  arm: "arm",
  "386": "i386",
  riscv64: "riscv64",
  ppc64le: "ppc64le",
  s390x: "s390x",
  mips64le: "mips64el",
  loong64: "loongarch64",
};

/** Emulator is a registered binfmt_misc handler that runs another architecture's binaries. */
export interface Emulator {
  /** architecture is the OCI architecture it runs (arm64, …). */
  architecture: string;
  /** handler is its binfmt_misc name (qemu-aarch64). */
  handler: string;
  interpreter: string;
  enabled: boolean;
  /**
   * fixBinary is the F flag: the kernel opened the interpreter when it was registered, so it works inside
   * a container whose root filesystem does not have it. Without F, RUN cannot use it.
   */
  fixBinary: boolean;
}

/** emulators lists the binfmt_misc handlers for the architectures OCI images use ([] when binfmt_misc is not mounted). */
export async function emulators(dir = BINFMT_DIR): Promise<Emulator[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Emulator[] = [];
  for (const [architecture, qemu] of Object.entries(QEMU_NAMES)) {
    const handler = `qemu-${qemu}`;
    if (!names.includes(handler)) continue;
    const text = await readFile(join(dir, handler), "utf8").catch(() => "");
    const field = (k: string) => text.match(new RegExp(`^${k}[: ]\\s*(.*)$`, "m"))?.[1]?.trim() ?? "";
    out.push({
      architecture,
      handler,
      interpreter: field("interpreter"),
      enabled: /^enabled$/m.test(text),
      fixBinary: field("flags").includes("F"),
    });
  }
  return out;
}

/**
 * runsNatively says whether the host executes `target`'s binaries without an emulator: the same
 * architecture, or a 32-bit sibling the kernel runs (386 on amd64, arm on arm64).
 */
export function runsNatively(target: Platform, host: Platform = hostPlatform()): boolean {
  const t = normalizePlatform(target);
  const h = normalizePlatform(host);
  if (t.os !== h.os) return false;
  if (t.architecture === h.architecture) return true;
  return (
    (h.architecture === "amd64" && t.architecture === "386") ||
    (h.architecture === "arm64" && t.architecture === "arm")
  );
}

/**
 * ensureRunnable throws a clear error before a RUN of stage `stage` for `target` when the host can run
 * neither natively nor through a usable binfmt_misc emulator; it names the stage and what to install.
 */
export async function ensureRunnable(target: Platform, stage: string, dir = BINFMT_DIR): Promise<void> {
  if (runsNatively(target)) return;
  const t = normalizePlatform(target);
  const want = displayPlatform(t);
  const host = displayPlatform(hostPlatform());
  const found = (await emulators(dir)).find((e) => e.architecture === t.architecture);
  if (found?.enabled && found.fixBinary) return;
  const why = !found
    ? `no binfmt_misc emulator for ${t.architecture} is registered${QEMU_NAMES[t.architecture] ? ` (qemu-${QEMU_NAMES[t.architecture]})` : ""}`
    : !found.enabled
      ? `the binfmt_misc emulator ${found.handler} is disabled`
      : `the binfmt_misc emulator ${found.handler} lacks the F (fix-binary) flag, so a container cannot use it`;
  throw new BuildError(
    "UNSUPPORTED",
    `stage ${stage}: RUN for ${want} cannot execute on this ${host} host: ${why}; install Debian's qemu-user-static (it registers the emulators with binfmt-support), or build this stage with FROM --platform=$BUILDPLATFORM and cross-compile`,
  );
}
