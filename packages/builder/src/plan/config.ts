import type { ContainerConfig, HealthConfig, HistoryEntry } from "@tsbuild/oci";
import { formatGoDuration } from "../dockerfile/instructions/duration.js";
import type { Instruction, RunInstruction } from "../dockerfile/instructions/types.js";
import { chompHeredocContent, parseHeredocWord } from "../dockerfile/parser/heredoc.js";
import { goQuote } from "../dockerfile/parser/quote.js";
import { DEFAULT_PATH, EnvList } from "./args.js";
import { parsePortSpec } from "./expose.js";
import type { BuildPlan, PlannedStage, PlannedStep } from "./types.js";

/** HISTORY_COMMENT is the comment BuildKit's Dockerfile frontend puts on every history entry. */
export const HISTORY_COMMENT = "buildkit.dockerfile.v0";

/** BaseImage is what folding starts from: the base image's config, author and history. */
export interface BaseImage {
  config?: ContainerConfig;
  author?: string;
  history?: readonly HistoryEntry[];
}

/**
 * FoldedImage is a stage's resulting image config, as BuildKit's dispatchers leave it: the container
 * config, the author (MAINTAINER) and the history (base entries first), without times or layers. An
 * executor fills `created`, and drops the layer of a history entry whose step changed nothing.
 */
export interface FoldedImage {
  config: ContainerConfig;
  author?: string;
  history: HistoryEntry[];
}

/** Layer says whether a history entry has a layer, and whether BuildKit marks it `# buildkit` (RUN, COPY, ADD). */
type Layer = false | "layer" | "buildkit";

type MutableConfig = { -readonly [K in keyof ContainerConfig]: ContainerConfig[K] };

/** defaultShell is what a shell form runs under when no SHELL was set (BuildKit's defaultShell). */
export function defaultShell(os: string): string[] {
  return os === "windows" ? ["cmd", "/S", "/C"] : ["/bin/sh", "-c"];
}

/** scratchImage is BuildKit's emptyImage: WorkingDir `/` and, except on Windows, the default PATH. */
export function scratchImage(os: string): BaseImage {
  return {
    config: os === "windows" ? { WorkingDir: "/" } : { WorkingDir: "/", Env: [`PATH=${DEFAULT_PATH}`] },
  };
}

/** quoteList is Go's `%q` of a []string: `["a" "b"]`. */
const quoteList = (list: readonly string[]) => `[${list.map(goQuote).join(" ")}]`;

/**
 * healthHistory is BuildKit's `HEALTHCHECK %+v` of the HealthcheckConfig value (dockerfile frontend 1.24,
 * BuildKit 0.30 on; before it wrote `%q` of the pointer): `{Test:[CMD-SHELL curl -f …] Interval:5s …}`.
 */
function healthHistory(h: HealthConfig): string {
  const d = (ns: number | undefined) => formatGoDuration(ns ?? 0);
  return `HEALTHCHECK {Test:[${(h.Test ?? []).join(" ")}] Interval:${d(h.Interval)} Timeout:${d(h.Timeout)} StartPeriod:${d(h.StartPeriod)} StartInterval:${d(h.StartInterval)} Retries:${h.Retries ?? 0}}`;
}

/**
 * runArgs are the process arguments of a RUN as BuildKit builds them: the exec form as written; a shell
 * form under the current SHELL; a lone heredoc becomes the script (or, with a `#!` line, a file the shell
 * runs from `/dev/pipes/`); several heredocs are put back after the command line for the shell to read.
 */
export function runArgs(run: RunInstruction, shell: readonly string[], os: string): string[] {
  let args = run.command.args;
  const files = run.heredocs;
  if (files.length > 0 && run.command.prependShell && args.length === 1) {
    let word: ReturnType<typeof parseHeredocWord>;
    try {
      word = parseHeredocWord(args[0]!);
    } catch {
      word = undefined;
    }
    const only = files[0]!;
    if (word) {
      const data = only.chomp ? chompHeredocContent(only.content) : only.content;
      args = os !== "windows" && data.startsWith("#!") ? [`/dev/pipes/${only.name}`] : [data];
    } else {
      args = [files.reduce((full, f) => `${full}\n${f.content}${f.name}`, args[0]!)];
    }
  }
  return run.command.prependShell ? [...shell, args.join(" ")] : [...args];
}

/**
 * runCommandString is BuildKit's history text for RUN: `|N K=V…` for the N build args in scope (value from
 * the step's environment, else the ARG's), then the arguments, joined by spaces.
 */
function runCommandString(args: readonly string[], step: PlannedStep): string {
  const env = new Map(step.env);
  const entries = new Map<string, string>();
  for (const a of step.buildArgs) entries.set(a.key, `${a.key}=${env.get(a.key) ?? a.value ?? ""}`);
  const prefix = entries.size > 0 ? [`|${entries.size}`, ...entries.values()] : [];
  return [...prefix, ...args].join(" ");
}

/** joinPath is Go's path.Join("/", …): cleaned, absolute. */
function joinPath(...parts: string[]): string {
  const out: string[] = [];
  for (const seg of parts.join("/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

/** Folder applies one stage's steps to an image config, the way BuildKit's dispatchers do. */
class Folder {
  readonly config: MutableConfig;
  author: string | undefined;
  readonly history: HistoryEntry[];
  private env: EnvList;
  private cmdSet = false;

  constructor(
    base: BaseImage,
    private readonly os: string,
  ) {
    const c = base.config ?? {};
    this.config = { ...c };
    // The base's ONBUILD triggers run in this stage (the plan holds them as steps) and are not inherited.
    delete this.config.OnBuild;
    this.env = EnvList.fromStrings(c.Env ?? []);
    // BuildKit makes sure every stage has a PATH (except on Windows, left to the OS).
    if (os !== "windows" && this.env.get("PATH") === undefined) {
      this.env = this.env.with("PATH", DEFAULT_PATH);
      this.config.Env = [...(c.Env ?? []), `PATH=${DEFAULT_PATH}`];
    }
    this.author = base.author;
    this.history = [...(base.history ?? [])];
  }

  private commit(createdBy: string, layer: Layer): void {
    const entry: { created_by: string; comment: string; empty_layer?: boolean } = {
      created_by: layer === "buildkit" ? `${createdBy} # buildkit` : createdBy,
      comment: HISTORY_COMMENT,
    };
    if (!layer) entry.empty_layer = true;
    this.history.push(entry);
  }

  private withShell(args: readonly string[]): string[] {
    const shell = this.config.Shell?.length ? this.config.Shell : defaultShell(this.os);
    return [...shell, args.join(" ")];
  }

  apply(step: PlannedStep): void {
    const entry = this.dispatch(step);
    if (entry) this.commit(...entry);
  }

  /** dispatch applies one step to the config and returns its history entry (none for ONBUILD). */
  private dispatch(step: PlannedStep): [createdBy: string, layer: Layer] | undefined {
    const ins: Instruction = step.expanded;
    switch (ins.kind) {
      case "env":
        for (const p of ins.pairs) {
          this.env = this.env.with(p.key, p.value);
          this.config.Env = addEnv(this.config.Env ?? [], p.key, p.value, this.os);
        }
        return [`ENV ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, false];
      case "label":
        this.config.Labels = {
          ...this.config.Labels,
          ...Object.fromEntries(ins.pairs.map((p) => [p.key, p.value])),
        };
        return [`LABEL ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, false];
      case "arg":
        return [
          `ARG ${ins.args.map((a) => (a.default === undefined ? a.name : `${a.name}=${a.default}`)).join(" ")}`,
          false,
        ];
      case "maintainer":
        this.author = ins.maintainer;
        return [`MAINTAINER ${ins.maintainer}`, false];
      case "user":
        this.config.User = ins.user;
        return [`USER ${ins.user}`, false];
      case "workdir": {
        // BuildKit's NormalizeWorkdir: an absolute path stands as written (`/app/`, `/a/../b`), a
        // relative one is joined to the current directory and cleaned.
        const wd = ins.path.startsWith("/") ? ins.path : joinPath(this.config.WorkingDir ?? "", ins.path);
        this.config.WorkingDir = wd;
        return [`WORKDIR ${wd}`, wd === "/" ? false : "layer"];
      }
      case "expose": {
        // BuildKit's convert_expose.go: every port of every word, in order, printed as a Go []string.
        const added = ins.ports.flatMap((raw) => parsePortSpec(raw).ports);
        this.config.ExposedPorts = {
          ...this.config.ExposedPorts,
          ...Object.fromEntries(added.map((p) => [p, {}])),
        };
        return [`EXPOSE [${added.join(" ")}]`, false];
      }
      case "volume":
        this.config.Volumes = {
          ...this.config.Volumes,
          ...Object.fromEntries(ins.paths.map((p) => [p, {}])),
        };
        return [`VOLUME [${ins.paths.join(" ")}]`, false];
      case "stopsignal":
        this.config.StopSignal = ins.signal;
        return [`STOPSIGNAL ${ins.signal}`, false];
      case "shell":
        this.config.Shell = [...ins.shell];
        return [`SHELL [${ins.shell.join(" ")}]`, false];
      case "cmd": {
        const args = ins.command.prependShell ? this.withShell(ins.command.args) : [...ins.command.args];
        this.config.Cmd = args;
        this.config.ArgsEscaped = true;
        this.cmdSet = true;
        return [`CMD ${quoteList(args)}`, false];
      }
      case "entrypoint": {
        const args = ins.command.prependShell ? this.withShell(ins.command.args) : [...ins.command.args];
        this.config.Entrypoint = args;
        // An ENTRYPOINT drops the base's CMD unless this stage set one.
        if (!this.cmdSet) this.config.Cmd = null;
        return [`ENTRYPOINT ${quoteList(args)}`, false];
      }
      case "healthcheck": {
        const h = ins.health;
        const hc: HealthConfig = {
          Test: [...h.test],
          ...(h.interval ? { Interval: h.interval } : {}),
          ...(h.timeout ? { Timeout: h.timeout } : {}),
          ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
          ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
          ...(h.retries ? { Retries: h.retries } : {}),
        };
        this.config.Healthcheck = hc;
        return [healthHistory(hc), false];
      }
      case "onbuild":
        this.config.OnBuild = [...(this.config.OnBuild ?? []), ins.expression];
        return undefined;
      case "run": {
        const shell = this.config.Shell?.length ? this.config.Shell : defaultShell(this.os);
        return [`RUN ${runCommandString(runArgs(ins, shell, this.os), step)}`, "buildkit"];
      }
      case "copy":
      case "add": {
        const words = [ins.kind === "add" ? "ADD" : "COPY"];
        if (ins.kind === "copy" && ins.parents) words.push("--parents");
        if (ins.chown) words.push(`--chown=${ins.chown}`);
        if (ins.chmod) words.push(`--chmod=${ins.chmod}`);
        words.push(...ins.sources, ...ins.contents.map((c) => `<<${c.path}`), ins.dest);
        return [words.join(" "), "buildkit"];
      }
      default:
        return;
    }
  }
}

/**
 * addEnv is BuildKit's addEnv: the first entry with the key (`k=v`, or a bare `k`) is replaced in place,
 * later duplicates are kept as they are; a new key is appended. Keys compare case-insensitively on Windows.
 */
function addEnv(env: readonly string[], key: string, value: string, os: string): string[] {
  const same = (k: string) => (os === "windows" ? k.toLowerCase() === key.toLowerCase() : k === key);
  const out = [...env];
  const i = out.findIndex((e) => {
    const eq = e.indexOf("=");
    return same(eq < 0 ? e : e.slice(0, eq));
  });
  if (i < 0) out.push(`${key}=${value}`);
  else out[i] = `${key}=${value}`;
  return out;
}

/**
 * foldImageConfig is a pure model of the image config BuildKit's Dockerfile frontend produces for one
 * stage: it applies the stage's planned steps (expanded, ONBUILD triggers first) to the base image's
 * config and returns the config and history docker would write, field by field (Env order and
 * replacement, Labels, ExposedPorts `80/tcp` keys, Volumes, WorkingDir against the previous one, User,
 * Cmd reset by an ENTRYPOINT, Shell, Healthcheck in ns, StopSignal, OnBuild). Nothing is executed.
 */
export function foldImageConfig(base: BaseImage, steps: readonly PlannedStep[], os: string): FoldedImage {
  return foldSteps(base, steps, os).image;
}

/** FoldedStep is the config a step runs under (before it applies) and the history entry it writes. */
export interface FoldedStep {
  config: ContainerConfig;
  /** history is the index of the step's entry in the folded history; undefined for ONBUILD. */
  history: number | undefined;
}

/** foldSteps is foldImageConfig that also reports, per step, the config in effect and its history entry. */
export function foldSteps(
  base: BaseImage,
  steps: readonly PlannedStep[],
  os: string,
): { image: FoldedImage; steps: FoldedStep[] } {
  const f = new Folder(base, os);
  const out: FoldedStep[] = [];
  for (const step of steps) {
    const config = structuredClone(f.config) as ContainerConfig;
    const n = f.history.length;
    f.apply(step);
    out.push({ config, history: f.history.length > n ? n : undefined });
  }
  const image = {
    config: f.config,
    ...(f.author !== undefined ? { author: f.author } : {}),
    history: f.history,
  };
  return { image, steps: out };
}

/** OMIT_EMPTY are the config fields Go writes with `omitempty`: an empty list or map is left out. */
const OMIT_EMPTY = [
  "Entrypoint",
  "Cmd",
  "Env",
  "Volumes",
  "ExposedPorts",
  "Labels",
  "OnBuild",
  "Shell",
] as const;

/**
 * omitEmpty is the config as BuildKit's encoder writes it (the OCI fields are `omitempty`): no null or
 * empty Entrypoint, Cmd, Env, Volumes, ExposedPorts, Labels, OnBuild or Shell, so `ENTRYPOINT []` and
 * `CMD []` clear them. (docker import's config keeps `"Cmd": null`: the fold itself keeps nulls.)
 */
export function omitEmpty(config: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = { ...config };
  for (const k of OMIT_EMPTY) {
    const v = out[k];
    // null, [] and {} alike: Object.keys of an empty list or map is empty
    if (v === null || (typeof v === "object" && Object.keys(v as object).length === 0)) delete out[k];
  }
  return out as ContainerConfig;
}

/**
 * foldPlan folds every planned stage in order: a stage on `scratch` starts from BuildKit's empty image, on
 * another stage from that stage's result, on an image from `imageOf(ref)` (an unknown image starts empty).
 */
export function foldPlan(
  plan: BuildPlan,
  imageOf: (ref: string, stage: PlannedStage) => BaseImage | undefined = () => undefined,
): Map<number, FoldedImage> {
  const out = new Map<number, FoldedImage>();
  for (const stage of plan.stages) {
    const os = stage.platform.os;
    let base: BaseImage;
    if (stage.base.kind === "scratch") base = scratchImage(os);
    else if (stage.base.kind === "stage") base = out.get(stage.base.stage) ?? scratchImage(os);
    else base = imageOf(stage.base.ref, stage) ?? {};
    out.set(stage.index, foldImageConfig(base, stage.steps, os));
  }
  return out;
}
