#!/usr/bin/env node
// bench/report.mjs — writes bench/RESULTS.md and bench/results/ratios.png from one results directory of
// bench/run.mjs (peers.jsonl from ../shared/bench/run-all.sh, micro/*.log, machine.json, load.jsonl):
// per scenario and phase (cold, warm, push) the median seconds of every tool, the best peer, and the
// ratio tsbuild ÷ best peer; the machine, the date and the load average while it ran; the
// micro-benchmarks' own summaries.
// Usage: node bench/report.mjs [RESULTS_DIR]   (default: the newest bench/results/* with peers.jsonl)
//        OUT=path.md CHART=path.png override where the report and the chart go.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Canvas } from "./png.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const resultsRoot = join(repo, "bench/results");
const PHASES = ["cold", "warm", "push"];
const SCENARIOS = ["copy-small", "copy-tree", "apt-nginx", "multistage", "run-many"];

/** median of numbers (mean of the middle two for an even count); undefined when empty. */
export function median(values) {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** variantOf names a measurement's tool as the report's columns do. */
export function variantOf(line) {
  if (line.tool === "buildah") return `buildah ${line.storage_driver ?? ""}`.trim();
  if (line.tool === "docker") return line.builder === "classic" ? "docker classic" : "docker BuildKit";
  return line.tool;
}

/**
 * summarize groups the measurements: cells[scenario][phase] = { medians: {variant: {s, n}}, best, ratio }.
 * best is the fastest peer's median; ratio is tsbuild's median ÷ best (undefined when either is missing).
 */
export function summarize(lines) {
  const ok = lines.filter((l) => l.tool && l.phase && PHASES.includes(l.phase) && l.ok === true);
  const variants = [...new Set(ok.map(variantOf))].sort((a, b) =>
    a === "tsbuild" ? 1 : b === "tsbuild" ? -1 : a.localeCompare(b),
  );
  const scenarios = [
    ...SCENARIOS.filter((s) => ok.some((l) => l.scenario === s)),
    ...[...new Set(ok.map((l) => l.scenario))].filter((s) => !SCENARIOS.includes(s)),
  ];
  const cells = {};
  for (const s of scenarios) {
    cells[s] = {};
    for (const p of PHASES) {
      const medians = {};
      for (const v of variants) {
        const xs = ok
          .filter((l) => l.scenario === s && l.phase === p && variantOf(l) === v)
          .map((l) => l.seconds);
        if (xs.length > 0) medians[v] = { s: median(xs), n: xs.length };
      }
      const peers = Object.entries(medians).filter(([v]) => v !== "tsbuild");
      const best = peers.length > 0 ? peers.reduce((a, b) => (b[1].s < a[1].s ? b : a)) : undefined;
      const ts = medians.tsbuild?.s;
      cells[s][p] = {
        medians,
        best: best && { variant: best[0], s: best[1].s },
        ratio: best && ts !== undefined && best[1].s > 0 ? ts / best[1].s : undefined,
      };
    }
  }
  const failures = lines.filter((l) => l.tool && l.ok === false);
  return { variants, scenarios, cells, failures };
}

/** geomean of positive numbers. */
function geomean(xs) {
  return xs.length === 0 ? undefined : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const sec = (x) => (x === undefined ? "–" : x < 10 ? x.toFixed(2) : x.toFixed(1));
const ratioText = (r) => (r === undefined ? "–" : `${r.toFixed(2)}×`);

/** headline is the one-sentence summary the README quotes. */
export function headline({ scenarios, cells }) {
  const all = scenarios.flatMap((s) => PHASES.map((p) => cells[s][p].ratio)).filter((r) => r !== undefined);
  const faster = all.filter((r) => r < 1).length;
  const per = PHASES.map((p) => {
    const g = geomean(scenarios.map((s) => cells[s][p].ratio).filter((r) => r !== undefined));
    return `${p} ${ratioText(g)}`;
  }).join(", ");
  return (
    `tsbuild took ${ratioText(geomean(all))} the time of the fastest peer (geometric mean of tsbuild ÷ best peer ` +
    `over ${all.length} scenario × phase cells; ${per}) and was faster than every peer in ${faster} of ${all.length} cells.`
  );
}

/** chart draws the ratios as bars around a 1.0 line on a log2 scale and returns PNG bytes. */
export function chart({ scenarios, cells }) {
  const colors = { cold: [52, 101, 164], warm: [115, 210, 22], push: [245, 121, 0] };
  const W = 960;
  const H = 480;
  const left = 70;
  const right = 20;
  const top = 50;
  const bottom = 70;
  const c = new Canvas(W, H);
  const ratios = scenarios.flatMap((s) => PHASES.map((p) => cells[s][p].ratio)).filter((r) => r > 0);
  const lo = Math.min(-2, Math.floor(Math.log2(Math.min(...ratios, 1))));
  const hi = Math.max(2, Math.ceil(Math.log2(Math.max(...ratios, 1))));
  const plotH = H - top - bottom;
  const y = (r) => top + ((hi - Math.log2(r)) / (hi - lo)) * plotH;
  c.text(W / 2, 12, "TSBUILD TIME ÷ BEST PEER TIME (LOG SCALE; BELOW 1 = TSBUILD FASTER)", [0, 0, 0], {
    scale: 2,
    align: "center",
  });
  for (let e = lo; e <= hi; e++) {
    const r = 2 ** e;
    c.hline(left, y(r), W - left - right, [215, 215, 215]);
    c.text(left - 8, y(r) - 3, r >= 1 ? `${r}` : `1/${1 / r}`, [90, 90, 90], { align: "right" });
  }
  const groupW = (W - left - right) / scenarios.length;
  const barW = Math.min(40, (groupW - 30) / PHASES.length);
  scenarios.forEach((s, i) => {
    const gx = left + i * groupW + (groupW - barW * PHASES.length) / 2;
    PHASES.forEach((p, j) => {
      const r = cells[s][p].ratio;
      const x = gx + j * barW;
      if (r === undefined) {
        c.text(x + barW / 2, y(1) - 10, "N/A", [160, 0, 0], { align: "center" });
        return;
      }
      const y0 = Math.min(y(r), y(1));
      c.rect(x + 2, y0, barW - 4, Math.max(2, Math.abs(y(r) - y(1))), colors[p]);
      const label = r >= 10 ? r.toFixed(0) : r.toFixed(2);
      c.text(x + barW / 2, r >= 1 ? y(r) - 10 : y(r) + 3, label, [0, 0, 0], { align: "center" });
    });
    c.text(left + i * groupW + groupW / 2, H - bottom + 12, s, [0, 0, 0], { scale: 2, align: "center" });
  });
  c.hline(left, y(1) - 1, W - left - right, [0, 0, 0], { thickness: 2 });
  let lx = W / 2 - 150;
  for (const p of PHASES) {
    c.rect(lx, H - 26, 14, 14, colors[p]);
    c.text(lx + 20, H - 26, p, [0, 0, 0], { scale: 2 });
    lx += 110;
  }
  return c.png();
}

function readJsonl(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l));
}

function loadStats(dir) {
  const file = join(dir, "load.jsonl");
  if (!existsSync(file)) return undefined;
  const xs = readJsonl(file).map((l) => l.load1);
  return { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/** microSection renders each micro-benchmark's own printed summary (its JSON sample lines left out). */
function microSection(dir) {
  const mdir = join(dir, "micro");
  if (!existsSync(mdir)) return [];
  const out = ["## Micro-benchmarks", ""];
  out.push(
    "Each script's own summary as it printed it in this run (bench/README.md says what each measures and",
    "how to read it). The JSON sample lines are left out; the full logs are in the results directory.",
    "",
  );
  const metas = readdirSync(mdir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(mdir, f), "utf8")));
  const order = [
    "hash-gzip",
    "parse",
    "plan",
    "registry-transport",
    "layer",
    "pull-push",
    "run-overhead",
    "startup",
  ];
  metas.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const m of metas) {
    const text = readFileSync(join(mdir, `${m.name}.log`), "utf8")
      .split("\n")
      .map(summaryLine)
      .filter((l) => l !== undefined && !/^\s*$/.test(l))
      .join("\n");
    const status = m.code === 0 ? "" : ` — **failed (exit ${m.code})**`;
    out.push(
      `### ${m.name} (\`${m.command}\`, ${m.seconds.toFixed(0)} s)${status}`,
      "",
      "```",
      text,
      "```",
      "",
    );
  }
  return out;
}

/** summaryLine keeps a text line, prints a JSON summary line ({"summary": ...}) as key=value, drops JSON samples. */
function summaryLine(line) {
  if (!line.trim().startsWith("{")) return line;
  try {
    const { bench: _bench, summary, ...rest } = JSON.parse(line);
    if (summary === undefined) return undefined;
    return `${summary}: ${Object.entries(rest)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`;
  } catch {
    return line;
  }
}

function newestResults() {
  if (!existsSync(resultsRoot)) return undefined;
  return readdirSync(resultsRoot)
    .filter((d) => existsSync(join(resultsRoot, d, "peers.jsonl")))
    .sort()
    .at(-1);
}

function main() {
  const arg = process.argv[2];
  const dir = arg ? resolve(arg) : join(resultsRoot, newestResults() ?? "");
  if (!existsSync(join(dir, "peers.jsonl"))) throw new Error(`no peers.jsonl in ${dir}`);
  const outMd = process.env.OUT ?? join(repo, "bench/RESULTS.md");
  const outPng = process.env.CHART ?? join(repo, "bench/results/ratios.png");
  const lines = readJsonl(join(dir, "peers.jsonl"));
  const sum = summarize(lines);
  const host = lines.find((l) => l.kind === "host") ?? {};
  const m = existsSync(join(dir, "machine.json"))
    ? JSON.parse(readFileSync(join(dir, "machine.json"), "utf8"))
    : {};
  const load = loadStats(dir);
  const versions = {};
  for (const l of lines.filter((l) => l.tool && l.tool_version))
    versions[variantOf(l)] = String(l.tool_version).replace(/^tsbuild version /, "");
  const repeats = Math.max(
    0,
    ...Object.values(sum.cells).flatMap((ph) =>
      Object.values(ph).flatMap((c) => Object.values(c.medians).map((x) => x.n)),
    ),
  );
  mkdirSync(dirname(outPng), { recursive: true });
  writeFileSync(outPng, chart(sum));

  const rel = (p) => relative(dirname(outMd), p);
  const md = [
    "# Benchmark results",
    "",
    `**${headline(sum)}**`,
    "",
    `Generated by \`pnpm bench\` (bench/run.mjs → bench/report.mjs) from the run in \`${rel(dir)}/\`` +
      ` (${basename(dir)}, tsbuild commit ${m.commit ?? "?"}).`,
    "",
    "## Machine and date",
    "",
    `- date: ${m.date ?? host.ts ?? "?"} (start of the run)`,
    `- CPU: ${m.cpu ?? "?"}, ${m.cores ?? host.cpus ?? "?"} cores; RAM ${((m.mem_bytes ?? host.mem_bytes ?? 0) / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${m.os ?? host.os ?? "?"}, kernel ${m.kernel ?? host.kernel ?? "?"}; Node ${m.node ?? "?"}; file system of the work dir: ${host.fs ?? "?"}`,
    load
      ? `- load average (1 min) while it ran, sampled every 15 s: min ${load.min.toFixed(1)}, median ${load.median.toFixed(1)}, max ${load.max.toFixed(1)} (${load.n} samples). ` +
        "The 2 cores were shared with other jobs (other sessions' test suites) during the run, so every number is noisier and slower than on an idle machine; the tools ran one at a time and equally exposed to it."
      : "- load average: not recorded",
    `- tools: ${Object.entries(versions)
      .map(([v, ver]) => `${v} ${ver}`)
      .join(", ")}; runc ${host.runc ?? "?"}, registry ${host.registry_version ?? "?"}`,
    "",
    "## Peer comparison",
    "",
    "The harness in `../shared/bench` (its README says exactly how each tool is run): every tool builds the same",
    "five Dockerfiles against the same local registry, one tool at a time, as root. *cold*: empty storage/cache",
    "for the scenario (the base image is pulled from the local registry); *warm*: the same build again with",
    "nothing changed; *push*: push to a new repository of the local registry (base layers mountable). Seconds",
    `are wall-clock medians of ${repeats} run(s) (n per cell in parentheses when it differs). The peers:`,
    `${sum.variants.filter((v) => v !== "tsbuild").join(", ")} (buildah's storage driver named; docker is dockerd`,
    "with its built-in BuildKit, started by the harness on its own data root).",
    "",
    `![tsbuild ÷ best peer per scenario and phase](${rel(outPng)})`,
    "",
    "The chart: one bar per scenario and phase, tsbuild's median ÷ the best peer's median, log scale; below the",
    "black 1.0 line tsbuild was faster than every peer. Blue cold, green warm, orange push.",
    "",
  ];
  for (const p of PHASES) {
    const peers = sum.variants.filter((v) => v !== "tsbuild");
    md.push(`### ${p}`, "");
    md.push(`| scenario | ${peers.join(" | ")} | tsbuild | best peer | tsbuild ÷ best |`);
    md.push(`|---|${peers.map(() => "---:").join("|")}|---:|---|---:|`);
    for (const s of sum.scenarios) {
      const cell = sum.cells[s][p];
      const fmt = (v) => {
        const x = cell.medians[v];
        return x ? `${sec(x.s)}${x.n !== repeats ? ` (${x.n})` : ""}` : "–";
      };
      const best = cell.best ? `${cell.best.variant}` : "–";
      md.push(
        `| ${s} | ${peers.map(fmt).join(" | ")} | ${fmt("tsbuild")} | ${best} | **${ratioText(cell.ratio)}** |`,
      );
    }
    md.push("");
  }
  md.push(
    "### tsbuild ÷ best peer",
    "",
    `| scenario | ${PHASES.join(" | ")} |`,
    `|---|${PHASES.map(() => "---:").join("|")}|`,
  );
  for (const s of sum.scenarios)
    md.push(`| ${s} | ${PHASES.map((p) => ratioText(sum.cells[s][p].ratio)).join(" | ")} |`);
  md.push("");
  if (sum.failures.length > 0) {
    md.push("### Failed measurements", "");
    for (const f of sum.failures)
      md.push(`- ${variantOf(f)} ${f.scenario ?? ""} ${f.phase}: ${f.error ?? ""}`);
    md.push("");
  }
  md.push(...microSection(dir));
  writeFileSync(outMd, `${md.join("\n").trimEnd()}\n`);
  console.log(headline(sum));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
