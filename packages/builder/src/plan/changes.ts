import type { ContainerConfig } from "@tsbuild/oci";
import { parseDockerfile } from "../dockerfile/dockerfile.js";
import { BuildError } from "../errors.js";
import { DEFAULT_PATH } from "./args.js";
import { foldImageConfig } from "./config.js";
import { planBuild } from "./plan.js";

/** BASE is the stand-in image name the change lines are planned on (its config is `config`). */
const BASE = "tsbuild-import-change-base";

/** CHANGE_KINDS are the instructions `docker import --change` / `docker commit --change` accept. */
const CHANGE_KINDS = new Set([
  "cmd",
  "entrypoint",
  "env",
  "expose",
  "healthcheck",
  "label",
  "onbuild",
  "stopsignal",
  "user",
  "volume",
  "workdir",
]);

/**
 * foldChanges is `docker import --change` (and `commit --change`): the
 * change lines are parsed as Dockerfile instructions after a FROM of `config`,
 * planned, and folded onto `config` by the build's own folding
 * (foldImageConfig), so ENV, WORKDIR, EXPOSE… mean exactly what they mean in
 * a build. Only config instructions are allowed (INVALID_CHANGE otherwise).
 * Two things a build stage does and docker import does not: the default
 * PATH is not added, and ArgsEscaped (which BuildKit sets on every CMD and
 * ENTRYPOINT) is left as it was, as moby's import dispatchers set it only
 * for a Windows shell form.
 */
export function foldChanges(
  config: ContainerConfig,
  changes: readonly string[],
  os = "linux",
): ContainerConfig {
  if (changes.length === 0) return config;
  // The stage starts from the config being changed, so `$VAR` expands against its env as docker does.
  const text = `FROM ${BASE}\n${changes.join("\n")}\n`;
  let plan: ReturnType<typeof planBuild>;
  try {
    const df = parseDockerfile(text, { file: "--change" });
    for (const ins of df.instructions.slice(1)) {
      if (!CHANGE_KINDS.has(ins.kind))
        throw new BuildError("INVALID_CHANGE", `${ins.keyword.toUpperCase()} is not a valid change command`);
    }
    plan = planBuild(df, {
      buildArgs: {},
      imageConfig: () => ({ env: config.Env ?? [], shell: config.Shell ?? [], onBuild: [] }),
    });
  } catch (err) {
    if (err instanceof BuildError && err.code === "INVALID_CHANGE") throw err;
    throw new BuildError("INVALID_CHANGE", `invalid --change: ${(err as Error).message}`, { cause: err });
  }
  const stage = plan.stages.find((s) => s.index === plan.target);
  if (!stage) throw new BuildError("INVALID_CHANGE", "invalid --change: nothing to apply");
  const { ArgsEscaped: escaped, ...folded } = foldImageConfig({ config }, stage.steps, os).config ?? {};
  if (config.ArgsEscaped !== undefined) Object.assign(folded, { ArgsEscaped: config.ArgsEscaped });
  else if (os === "windows" && escaped !== undefined) Object.assign(folded, { ArgsEscaped: escaped });
  const hadPath = (config.Env ?? []).some((e) => e.startsWith("PATH="));
  if (hadPath || folded.Env === undefined || folded.Env === null) return folded;
  const env = [...folded.Env];
  const i = env.indexOf(`PATH=${DEFAULT_PATH}`);
  if (i >= 0) env.splice(i, 1);
  const { Env: _, ...rest } = folded;
  return env.length > 0 ? { ...rest, Env: env } : rest;
}
