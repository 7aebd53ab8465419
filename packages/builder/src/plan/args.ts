import { normalizePlatform, type Platform } from "@tsbuild/oci";
import type { EnvGetter } from "../dockerfile/shell/env.js";

/**
 * EnvList is an ordered environment with BuildKit's `AddEnv` semantics: setting an existing name
 * replaces it in place, a new name is appended. It is immutable; `with` returns a new list.
 */
export class EnvList implements EnvGetter {
  private constructor(private readonly entries: ReadonlyArray<readonly [string, string]>) {}

  static empty(): EnvList {
    return new EnvList([]);
  }

  /** fromStrings reads `NAME=value` entries (an image config's Env). */
  static fromStrings(env: readonly string[]): EnvList {
    let list = EnvList.empty();
    for (const e of env) {
      const eq = e.indexOf("=");
      list = eq < 0 ? list.with(e, "") : list.with(e.slice(0, eq), e.slice(eq + 1));
    }
    return list;
  }

  with(key: string, value: string): EnvList {
    const i = this.entries.findIndex(([k]) => k === key);
    if (i < 0) return new EnvList([...this.entries, [key, value]]);
    const next = [...this.entries];
    next[i] = [key, value];
    return new EnvList(next);
  }

  get(name: string): string | undefined {
    return this.entries.find(([k]) => k === name)?.[1];
  }

  keys(): readonly string[] {
    return this.entries.map(([k]) => k);
  }

  toArray(): ReadonlyArray<readonly [string, string]> {
    return this.entries;
  }
}

/** DEFAULT_PATH is the PATH BuildKit gives a Linux stage whose image sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** argPlatform is containerd's normalised form used for the platform ARGs (arm64 has no `v8` variant). */
function argPlatform(p: Platform): { os: string; architecture: string; variant: string; osVersion: string } {
  const n = normalizePlatform(p);
  let variant = n.variant ?? "";
  if (n.architecture === "arm64" && variant === "v8") variant = "";
  return { os: n.os, architecture: n.architecture, variant, osVersion: n["os.version"] ?? "" };
}

function formatArgPlatform(p: ReturnType<typeof argPlatform>, withVersion: boolean): string {
  const os = withVersion && p.osVersion ? `${p.os}(${p.osVersion})` : p.os;
  return p.variant ? `${os}/${p.architecture}/${p.variant}` : `${os}/${p.architecture}`;
}

/** PREDEFINED_PLATFORM_ARGS are the automatic platform ARGs (global scope; a stage sees them after `ARG NAME`). */
export const PREDEFINED_PLATFORM_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDOSVERSION",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETOSVERSION",
  "TARGETARCH",
  "TARGETVARIANT",
  "TARGETSTAGE",
] as const;

/**
 * defaultArgs are BuildKit's predefined global ARGs for a build: BUILD* from the build platform, TARGET*
 * from the target platform, TARGETSTAGE from the target stage's name. `--build-arg` may override them.
 */
export function defaultArgs(
  build: Platform,
  target: Platform,
  targetStage: string,
  overrides: Readonly<Record<string, string>>,
): EnvList {
  const bp = argPlatform(build);
  const tp = argPlatform(target);
  const values: Record<(typeof PREDEFINED_PLATFORM_ARGS)[number], string> = {
    BUILDPLATFORM: formatArgPlatform(bp, false),
    BUILDOS: bp.os,
    BUILDOSVERSION: bp.osVersion,
    BUILDARCH: bp.architecture,
    BUILDVARIANT: bp.variant,
    TARGETPLATFORM: formatArgPlatform(tp, true),
    TARGETOS: tp.os,
    TARGETOSVERSION: tp.osVersion,
    TARGETARCH: tp.architecture,
    TARGETVARIANT: tp.variant,
    TARGETSTAGE: targetStage,
  };
  let env = EnvList.empty();
  for (const name of PREDEFINED_PLATFORM_ARGS) {
    env = env.with(name, Object.hasOwn(overrides, name) ? overrides[name]! : values[name]);
  }
  return env;
}

/** PROXY_ARGS are the proxy build args: usable by RUN without an ARG, and never written to history. */
export const PROXY_ARGS = ["http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"] as const;

/** isProxyArg reports whether a build arg is one of the proxy names (any case, as BuildKit compares). */
export function isProxyArg(name: string): boolean {
  return (PROXY_ARGS as readonly string[]).includes(name.toLowerCase());
}

/**
 * proxyEnv is the environment BuildKit gives RUN for the proxy build args: its proxyEnvFromBuildArgs
 * matches the names in any case and, when several spellings are given, keeps the one last in byte order
 * (so `http_proxy` wins over `HTTP_PROXY`); the executor then sets both spellings to that value, and
 * leaves an empty one out.
 */
export function proxyEnv(buildArgs: Readonly<Record<string, string>>): Record<string, string> {
  const picked = new Map<string, string>();
  const keys = Object.keys(buildArgs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const k of keys) if (isProxyArg(k)) picked.set(k.toLowerCase(), buildArgs[k]!);
  const out: Record<string, string> = {};
  for (const name of PROXY_ARGS) {
    const v = picked.get(name);
    if (v === undefined || v === "") continue;
    out[name.toUpperCase()] = v;
    out[name] = v;
  }
  return out;
}

/** isBuiltinArg: build args consumed by the builder itself, never reported as unused. */
export function isBuiltinArg(name: string): boolean {
  return (
    isProxyArg(name) ||
    (PREDEFINED_PLATFORM_ARGS as readonly string[]).includes(name) ||
    name.startsWith("BUILDKIT_") ||
    name === "SOURCE_DATE_EPOCH"
  );
}

/**
 * unusedBuildArgsWarning is the line docker prints for build args nothing consumed:
 * `[Warning] One or more build-args [A B] were not consumed`.
 */
export function unusedBuildArgsWarning(names: readonly string[]): string {
  return `[Warning] One or more build-args [${names.join(" ")}] were not consumed`;
}
