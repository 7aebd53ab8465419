import { endianness } from "node:os";
import type { OciErrorCode } from "./errors.js";
import { OciError } from "./errors.js";
import {
  expectObject,
  fail,
  type JsonObject,
  optionalString,
  optionalStringArray,
  requireString,
} from "./json-check.js";
import type { Descriptor, Platform } from "./types.js";

/**
 * platform: parse, normalise, format and match platforms the way containerd
 * does (github.com/containerd/platforms), so `--platform` and image index
 * selection behave as they do under docker.
 *
 * One deliberate difference from containerd's Normalize: containerd drops the
 * arm64 `v8` variant (arm64 == arm64/v8), we fill it in (`linux/arm64` →
 * `linux/arm64/v8`), which is the form Docker Hub indexes and `docker image
 * inspect` show. Matching treats both spellings as equal either way.
 */

const COMPONENT_RE = /^[A-Za-z0-9_.-]+$/;

const KNOWN_OS = new Set([
  "aix",
  "android",
  "darwin",
  "dragonfly",
  "freebsd",
  "hurd",
  "illumos",
  "ios",
  "js",
  "linux",
  "nacl",
  "netbsd",
  "openbsd",
  "plan9",
  "solaris",
  "windows",
  "zos",
]);

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === "macos" ? "darwin" : lower;
}

function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case "i386":
    case "386":
      return { architecture: "386", variant: a === "i386" ? "" : v };
    case "x86_64":
    case "x86-64":
    case "amd64":
      return { architecture: "amd64", variant: v === "v1" ? "" : v };
    case "aarch64":
    case "arm64":
      if (v === "" || v === "8" || v === "v8.0") v = "v8";
      else if (v === "9" || v === "9.0" || v === "v9.0") v = "v9";
      return { architecture: "arm64", variant: v };
    case "armhf":
      return { architecture: "arm", variant: "v7" };
    case "armel":
      return { architecture: "arm", variant: "v6" };
    case "arm":
      if (v === "" || v === "7") v = "v7";
      else if (v === "5" || v === "6" || v === "8") v = `v${v}`;
      return { architecture: "arm", variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

/** normalizePlatform lowercases and renames os/architecture/variant to their canonical spellings. */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? "");
  return withOptional({ os: normalizeOs(p.os), architecture }, variant, p["os.version"], p["os.features"]);
}

function withOptional(
  base: { os: string; architecture: string },
  variant: string | undefined,
  osVersion: string | undefined,
  osFeatures: readonly string[] | undefined,
): Platform {
  const out: { -readonly [K in keyof Platform]: Platform[K] } = { ...base };
  if (variant) out.variant = variant;
  if (osVersion) out["os.version"] = osVersion;
  if (osFeatures && osFeatures.length > 0) out["os.features"] = osFeatures;
  return out;
}

/**
 * parsePlatform reads a specifier `os[(osversion)]/arch[/variant]`, or just `os`
 * or `arch` (the missing half comes from the host, as containerd does), and
 * returns it normalised. Throws INVALID_PLATFORM saying which part is wrong.
 */
export function parsePlatform(specifier: string, host: Platform = hostPlatform()): Platform {
  const where = `platform ${JSON.stringify(specifier)}`;
  if (specifier.trim() === "") throw new OciError("INVALID_PLATFORM", "platform is empty", { where });
  const parts = specifier.split("/");
  if (parts.length > 3) {
    throw new OciError("INVALID_PLATFORM", "expected os/arch[/variant], got more than three parts", {
      where,
    });
  }
  let osVersion: string | undefined;
  const first = parts[0]!;
  const m = /^([^()]*)\(([^()]*)\)$/.exec(first);
  if (m) {
    parts[0] = m[1]!;
    osVersion = m[2]!;
  }
  parts.forEach((part, i) => {
    if (!COMPONENT_RE.test(part)) {
      const name = ["os", "architecture", "variant"][i];
      throw new OciError("INVALID_PLATFORM", `${name} ${JSON.stringify(part)} is not a valid name`, {
        where,
      });
    }
  });
  if (parts.length === 1) {
    const only = parts[0]!.toLowerCase();
    if (KNOWN_OS.has(normalizeOs(only))) {
      // An OS alone: the host architecture, as containerd does.
      return normalizePlatform(
        withOptional({ os: only, architecture: host.architecture }, host.variant, osVersion, undefined),
      );
    }
    const { architecture, variant } = normalizeArch(only, "");
    if (!KNOWN_ARCH.has(architecture)) {
      throw new OciError(
        "INVALID_PLATFORM",
        `unknown operating system or architecture ${JSON.stringify(only)}`,
        {
          where,
        },
      );
    }
    return withOptional({ os: host.os, architecture }, variant, osVersion, undefined);
  }
  return normalizePlatform(
    withOptional({ os: parts[0]!, architecture: parts[1]! }, parts[2], osVersion, undefined),
  );
}

const KNOWN_ARCH = new Set([
  "386",
  "amd64",
  "amd64p32",
  "arm",
  "armbe",
  "arm64",
  "arm64be",
  "ppc64",
  "ppc64le",
  "loong64",
  "mips",
  "mipsle",
  "mips64",
  "mips64le",
  "mips64p32",
  "mips64p32le",
  "ppc",
  "riscv",
  "riscv64",
  "s390",
  "s390x",
  "sparc",
  "sparc64",
  "wasm",
]);

/** formatPlatform prints `os/arch[/variant]` (the form `--platform` takes). */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

const NODE_OS: Record<string, string> = { win32: "windows", sunos: "solaris" };
const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
  mips64el: "mips64le",
};

/** hostPlatform is the platform of this process, normalised (e.g. `linux/amd64`, `linux/arm64/v8`). */
export function hostPlatform(): Platform {
  const os = NODE_OS[process.platform] ?? process.platform;
  let arch = NODE_ARCH[process.arch] ?? process.arch;
  if (arch === "ppc64" && endianness() === "LE") arch = "ppc64le";
  let variant = "";
  if (arch === "arm") {
    const vars = (process.config as { variables?: { arm_version?: string } }).variables;
    variant = vars?.arm_version ? `v${vars.arm_version}` : "v7";
  }
  return normalizePlatform(withOptional({ os, architecture: arch }, variant, undefined, undefined));
}

/** matchKey is containerd's match form: arm64/v8 and arm64 are the same platform. */
function matchKey(p: Platform): { os: string; architecture: string; variant: string } {
  const n = normalizePlatform(p);
  const variant = n.architecture === "arm64" && n.variant === "v8" ? "" : (n.variant ?? "");
  return { os: n.os, architecture: n.architecture, variant };
}

const ARM64_VERSIONS: Record<string, { major: number[]; minor: number[] }> = {
  v8: { major: [8], minor: [0] },
  "v8.0": { major: [8], minor: [0] },
  v9: { major: [9, 8], minor: [0, 5] },
  "v9.0": { major: [9, 8], minor: [0, 5] },
};
for (let i = 1; i <= 9; i++) ARM64_VERSIONS[`v8.${i}`] = { major: [8], minor: [i] };
for (let i = 1; i <= 7; i++) ARM64_VERSIONS[`v9.${i}`] = { major: [9, 8], minor: [i, Math.min(i + 5, 9)] };

/**
 * platformVector lists what a machine of platform `p` can run, best first, as
 * containerd's platforms.Only does: amd64/vN → vN-1…v1 then 386; arm/vN →
 * arm/vN-1…v5; arm64/v8.x → lower v8 minors, then arm/v8…v5.
 */
export function platformVector(p: Platform): Platform[] {
  const n = normalizePlatform(p);
  const mk = (architecture: string, variant?: string): Platform =>
    normalizePlatform(withOptional({ os: n.os, architecture }, variant, n["os.version"], n["os.features"]));
  const variantNumber = Number.parseInt((n.variant ?? "").replace(/^v/, ""), 10);
  switch (n.architecture) {
    case "amd64": {
      const out = [n];
      if (variantNumber > 1) for (let v = variantNumber - 1; v >= 1; v--) out.push(mk("amd64", `v${v}`));
      out.push(mk("386"));
      return out;
    }
    case "arm": {
      const out = [n];
      if (variantNumber > 5) for (let v = variantNumber - 1; v >= 5; v--) out.push(mk("arm", `v${v}`));
      return out;
    }
    case "arm64": {
      const variant = n.variant ?? "v8";
      const versions = ARM64_VERSIONS[variant];
      if (!versions) return [n];
      const out: Platform[] = [];
      versions.major.forEach((major, i) => {
        for (let minor = versions.minor[i]!; minor >= 0; minor--) {
          out.push(mk("arm64", minor === 0 ? `v${major}` : `v${major}.${minor}`));
        }
      });
      for (let v = 8; v >= 5; v--) out.push(mk("arm", `v${v}`));
      return out;
    }
    default:
      return [n];
  }
}

function sameOsVersion(wanted: Platform, candidate: Platform): boolean {
  const w = wanted["os.version"];
  const c = candidate["os.version"];
  if (!w || !c) return true;
  // Windows builds are compatible when major.minor.build agree (the revision may differ).
  const prefix = (s: string) => s.split(".").slice(0, 3).join(".");
  return prefix(w) === prefix(c);
}

/** matchPlatformExact is containerd's OnlyStrict: same os/arch/variant after normalising. */
export function matchPlatformExact(wanted: Platform, candidate: Platform): boolean {
  const w = matchKey(wanted);
  const c = matchKey(candidate);
  return (
    w.os === c.os &&
    w.architecture === c.architecture &&
    w.variant === c.variant &&
    sameOsVersion(wanted, candidate)
  );
}

/**
 * platformRank is where `candidate` falls in `wanted`'s compatibility vector
 * (0 = exact), or -1 when a `wanted` machine cannot run it.
 */
export function platformRank(wanted: Platform, candidate: Platform): number {
  return platformVector(wanted).findIndex((p) => matchPlatformExact(p, candidate));
}

/** matchPlatform says whether a machine of platform `wanted` can run `candidate` (containerd's platforms.Only). */
export function matchPlatform(wanted: Platform, candidate: Platform): boolean {
  return platformRank(wanted, candidate) >= 0;
}

/**
 * selectPlatform filters an index's manifest descriptors to those `wanted`
 * can run, best match first (ties keep index order); descriptors without a
 * platform never match.
 */
export function selectPlatform<D extends Pick<Descriptor, "platform">>(
  descriptors: readonly D[],
  wanted: Platform,
): D[] {
  return descriptors
    .map((d, i) => ({ d, i, rank: d.platform ? platformRank(wanted, d.platform) : -1 }))
    .filter((x) => x.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((x) => x.d);
}

/** parsePlatformObject validates a JSON `platform` object (in a descriptor or config). */
export function parsePlatformObject(
  v: unknown,
  where: string,
  code: OciErrorCode = "INVALID_PLATFORM",
): Platform {
  const obj: JsonObject = expectObject(v, where, code);
  const architecture = requireString(obj, "architecture", where, code);
  const os = requireString(obj, "os", where, code);
  if (architecture === "") fail(code, `${where}.architecture`, "must not be empty");
  if (os === "") fail(code, `${where}.os`, "must not be empty");
  return withOptional(
    { os, architecture },
    optionalString(obj, "variant", where, code),
    optionalString(obj, "os.version", where, code),
    optionalStringArray(obj, "os.features", where, code),
  );
}
