import type { ContainerConfig } from "@tsbuild/oci";
import type {
  NetworkMode,
  RunMount,
  SecurityMode,
  SourceLocation,
} from "../dockerfile/instructions/types.js";
import type { Heredoc } from "../dockerfile/parser/ast.js";
import { defaultShell, type FoldedStep, runArgs } from "../plan/config.js";
import type { PlannedStage, PlannedStep } from "../plan/types.js";
import { cleanRel } from "./fsview.js";

/** StepScope is what is in effect when a step runs: working directory, user, shell and environment. */
export interface StepScope {
  workdir: string;
  user: string;
  shell: string[];
  env: [string, string][];
}

/** CopyArgs are a COPY's or ADD's resolved arguments. */
export interface CopyArgs {
  add: boolean;
  sources: string[];
  heredocs: { path: string; data: string }[];
  /** dest is absolute and cleaned; a trailing "/" means a directory. */
  dest: string;
  chown?: string;
  chmod?: string;
  /** from is another stage (by index) or an image, when the sources are not the context. */
  from?: { stage: number } | { image: string };
  link: boolean;
  parents: boolean;
  excludes: string[];
  checksum?: string;
  unpack: boolean;
  keepGitDir: boolean;
}

/** RunArgs are a RUN's process and options (the sandbox's input). */
export interface RunArgs {
  args: string[];
  mounts: RunMount[];
  network: NetworkMode;
  security: SecurityMode;
  heredocs: Heredoc[];
}

interface StepBase {
  /** text is the instruction as progress shows it. */
  text: string;
  location: SourceLocation;
  scope: StepScope;
  /** history is the index of the history entry the step writes (undefined for ONBUILD). */
  history: number | undefined;
  /** inputs is the step's resolved instruction without source positions, for its cache key. */
  inputs: unknown;
  onbuild: boolean;
}

/** ExecStep is one step as the executor gets it: a kind and resolved arguments, no Dockerfile text to read. */
export type ExecStep =
  | (StepBase & { kind: "copy"; copy: CopyArgs })
  | (StepBase & { kind: "workdir"; path: string })
  | (StepBase & { kind: "run"; run: RunArgs })
  | (StepBase & { kind: "config" });

/** destination is BuildKit's pathRelativeToWorkingDir: absolute, cleaned, a trailing "/" kept ("." counts). */
export function destination(dest: string, workdir: string): string {
  const dir = dest === "." || dest === "" || dest.endsWith("/") || dest.endsWith("/.");
  const abs = dest.startsWith("/") ? dest : `${workdir || "/"}/${dest}`;
  const clean = `/${cleanRel(abs)}`;
  return dir && clean !== "/" ? `${clean}/` : clean;
}

function inputsOf(step: PlannedStep): unknown {
  return JSON.parse(
    JSON.stringify(step.expanded, (k, v) =>
      k === "location" || k === "node" || k === "original" || k === "keyword" ? undefined : v,
    ),
  );
}

function textOf(step: PlannedStep): string {
  const text = step.instruction.original.replace(/\s*\\?\n\s*/g, " ").trim();
  return step.onbuild ? `ONBUILD ${text}` : text;
}

/** typedSteps turns a planned stage's steps into executor steps, with the config each one runs under. */
export function typedSteps(stage: PlannedStage, folded: readonly FoldedStep[]): ExecStep[] {
  const os = stage.platform.os;
  return stage.steps.map((step, i) => {
    const config: ContainerConfig = folded[i]!.config;
    const shell = config.Shell?.length ? [...config.Shell] : defaultShell(os);
    const base: StepBase = {
      text: textOf(step),
      location: step.instruction.location,
      scope: {
        // the config keeps an absolute WORKDIR as written (`/app/`); steps run in its clean form
        workdir: `/${cleanRel(config.WorkingDir || "/")}`,
        user: config.User ?? "",
        shell,
        env: step.env.map(([k, v]) => [k, v]),
      },
      history: folded[i]!.history,
      inputs: inputsOf(step),
      onbuild: step.onbuild === true,
    };
    const ins = step.expanded;
    switch (ins.kind) {
      case "copy":
      case "add": {
        const copy: CopyArgs = {
          add: ins.kind === "add",
          sources: [...ins.sources],
          heredocs: ins.contents.map((h) => ({ path: h.path, data: h.data })),
          dest: destination(ins.dest, base.scope.workdir),
          link: ins.link,
          parents: ins.kind === "copy" && ins.parents,
          excludes: [...ins.excludes],
          unpack: ins.kind === "add" && ins.unpack !== false,
          keepGitDir: ins.kind === "add" && ins.keepGitDir,
        };
        if (ins.chown) copy.chown = ins.chown;
        if (ins.chmod) copy.chmod = ins.chmod;
        if (ins.kind === "add" && ins.checksum) copy.checksum = ins.checksum;
        if (ins.kind === "copy" && ins.from !== undefined) {
          const s = step.fromStages?.[0];
          copy.from = s !== undefined ? { stage: s } : { image: step.fromImages?.[0] ?? ins.from };
        }
        return { ...base, kind: "copy", copy };
      }
      case "workdir": {
        const path = `/${cleanRel(ins.path.startsWith("/") ? ins.path : `${base.scope.workdir}/${ins.path}`)}`;
        return { ...base, kind: "workdir", path };
      }
      case "run":
        return {
          ...base,
          kind: "run",
          run: {
            args: runArgs(ins, shell, os),
            mounts: ins.mounts,
            network: ins.network,
            security: ins.security,
            heredocs: ins.heredocs,
          },
        };
      default:
        return { ...base, kind: "config" };
    }
  });
}
