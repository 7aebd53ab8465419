import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCacheFrom, parseCacheTo } from "@tsbuild/builder";
import { parseReference } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../packages/cli/src/testing.js";

const EXAMPLES = join(import.meta.dirname, "..", "examples");

/** shellWords splits a POSIX command line as the CI shell would (quotes, backslash-newline; no globbing). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else cur = (cur ?? "") + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= "";
    } else if (c === "\\" && text[i + 1] === "\n") i++;
    else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else cur = (cur ?? "") + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** flagValues collects `--name=value` and `--name value` pairs of a command's arguments. */
function flagValues(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (const [i, a] of args.entries()) {
    if (a === `--${name}`) out.push(args[i + 1]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/**
 * The shipped Kubernetes Job and CI workflow (no cluster or CI runs here): the YAML parses, the pod asks
 * for what rootless tsbuild needs and nothing privileged, and the tsbuild command lines they run are
 * accepted by this CLI's own parser — every flag exists (an unknown one exits 2), every cache and tag
 * value parses — by running them with `--check` (lint only) on a throwaway context.
 */
describe("examples: Kubernetes Job and CI workflow", () => {
  let dir: string;
  let context: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-examples-"));
    context = join(dir, "ctx");
    await mkdir(context);
    await writeFile(join(context, "Dockerfile"), "FROM scratch\nCOPY . /\n");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** accepts runs a `tsbuild build …` argument list (context replaced) with --check: exit 0 or the output. */
  const accepts = async (args: string[]) => {
    expect(args[0]).toBe("build");
    const ctxArg = args.at(-1)!;
    expect(ctxArg.startsWith("-")).toBe(false);
    for (const v of flagValues(args, "cache-from")) parseCacheFrom(v);
    for (const v of flagValues(args, "cache-to")) parseCacheTo(v);
    for (const t of flagValues(args, "tag")) parseReference(t);
    const r = await runCli([...args.slice(0, -1), "--check", context], {
      env: { ...process.env, TSBUILD_ROOT: join(dir, "store") },
    });
    expect(`${r.code} ${r.stderr}`).toBe("0 ");
  };

  it("examples/k8s/job.yaml: a batch/v1 Job, unprivileged, in a user namespace, running a valid tsbuild build", async () => {
    const job = parse(await readFile(join(EXAMPLES, "k8s", "job.yaml"), "utf8"));
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.kind).toBe("Job");
    const pod = job.spec.template.spec;
    expect(["Never", "OnFailure"]).toContain(pod.restartPolicy);
    expect(pod.hostUsers).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.securityContext.privileged ?? false).toBe(false);
    expect(c.securityContext.seccompProfile.type).toBe("Unconfined");
    expect(c.command).toEqual(["tsbuild"]);
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Number.isInteger(Number(env.SOURCE_DATE_EPOCH))).toBe(true);
    // build reads SOURCE_DATE_EPOCH as a build argument: a valueless --build-arg passes the environment's.
    expect(c.args).toContain("--build-arg=SOURCE_DATE_EPOCH");
    // The store is an emptyDir mounted where TSBUILD_ROOT points; every volume mount names a volume.
    const volumes = new Set(pod.volumes.map((v: { name: string }) => v.name));
    for (const m of c.volumeMounts) expect(volumes.has(m.name)).toBe(true);
    const store = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === env.TSBUILD_ROOT);
    expect(pod.volumes.find((v: { name: string }) => v.name === store.name).emptyDir).toBeDefined();
    const args: string[] = c.args;
    expect(args).toContain("--push");
    expect(flagValues(args, "cache-from")).toHaveLength(1);
    expect(flagValues(args, "cache-to")).toHaveLength(1);
    // The build reads the context where the source volume is mounted.
    expect(c.volumeMounts.some((m: { mountPath: string }) => m.mountPath === args.at(-1))).toBe(true);
    await accepts(args);
  }, 60_000);

  it("examples/ci/github-workflow.yml: a workflow whose steps run valid tsbuild commands, nothing privileged", async () => {
    const text = await readFile(join(EXAMPLES, "ci", "github-workflow.yml"), "utf8");
    const wf = parse(text);
    expect(wf.on).toBeDefined();
    expect(text).not.toMatch(/--privileged|privileged:\s*true/);
    const steps: { run?: string; uses?: string }[] = wf.jobs.build.steps;
    expect(steps.some((s) => s.uses?.startsWith("actions/checkout@"))).toBe(true);
    const runs = steps.flatMap((s) => (s.run ? [s.run] : []));
    // Every tsbuild command line, with the workflow's expressions and variables given sample values.
    const vars: Record<string, string> = {
      IMAGE: "ghcr.io/owner/repo/web",
      CACHE: "ghcr.io/owner/repo/cache",
      SOURCE_DATE_EPOCH: "1700000000",
    };
    const commands = runs
      .join("\n")
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /(^|\| )tsbuild /.test(l))
      .map((l) =>
        l
          .slice(l.indexOf("tsbuild "))
          .replace(/\$\{\{[^}]*\}\}/g, "x")
          .replace(/\$\{(\w+)\}/g, (_, v: string) => vars[v] ?? ""),
      );
    const build = commands.map(shellWords).find((w) => w[1] === "build");
    expect(build).toBeDefined();
    expect(build!).toContain("--push");
    expect(flagValues(build!, "cache-from")[0]).toBe("type=registry,ref=ghcr.io/owner/repo/cache:main");
    expect(flagValues(build!, "cache-to")[0]).toBe(
      "type=registry,ref=ghcr.io/owner/repo/cache:main,mode=max",
    );
    await accepts(build!.slice(1));
    // login and doctor exist with the flags used.
    const login = commands.map(shellWords).find((w) => w[1] === "login")!;
    const help = await runCli(["login", "--help"]);
    for (const f of login.filter((w) => w.startsWith("--"))) expect(help.stdout).toContain(f);
    expect(commands.some((c) => c === "tsbuild doctor")).toBe(true);
    expect((await runCli(["doctor", "--help"])).code).toBe(0);
  }, 60_000);
});
