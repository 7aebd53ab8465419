import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX_SHA256 } from "./bases.js";
import { explains, type KnownDifference } from "./compare.js";
import type { ImageDescription } from "./describe.js";

const BUILD = fileURLToPath(new URL("./build/", import.meta.url));
const CASES = readdirSync(BUILD).sort();

interface CaseJson {
  description: string;
  source: string;
  buildArgs: Record<string, string>;
  target: string | null;
  baseLayers: number;
  platform: string;
  needsHttp: boolean;
  secrets?: Record<string, string>;
  knownDifferences: KnownDifference[];
}

const read = <T>(c: string, f: string): T => JSON.parse(readFileSync(join(BUILD, c, f), "utf8")) as T;

/** listing describes a directory tree (modes, sizes, link targets, inode sharing), for comparing two setups. */
function listing(root: string): string[] {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      const link = st.isSymbolicLink() ? ` -> ${readlinkSync(p)}` : "";
      const first = st.isFile() && st.nlink > 1 ? inodes.get(st.ino) : undefined;
      if (st.isFile() && st.nlink > 1 && !first) inodes.set(st.ino, rel);
      const content = st.isFile() ? createHash("sha256").update(readFileSync(p)).digest("hex") : "";
      out.push(`${rel} ${st.mode.toString(8)} ${content}${link}${first ? ` = ${first}` : ""}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

describe("golden cases", () => {
  it("cover at least 25 cases without RUN and 15 with RUN", () => {
    expect(CASES.filter((c) => !c.startsWith("run-")).length).toBeGreaterThanOrEqual(25);
    expect(CASES.filter((c) => c.startsWith("run-")).length).toBeGreaterThanOrEqual(15);
  });

  it.each(CASES)("%s has a Dockerfile, setup.sh, a well-formed case.json and expected.json", (c) => {
    for (const f of ["Dockerfile", "setup.sh", "case.json", "expected.json"]) {
      expect(existsSync(join(BUILD, c, f)), `${c}/${f}`).toBe(true);
    }
    const meta = read<CaseJson>(c, "case.json");
    expect(meta).toMatchObject({
      description: expect.any(String),
      source: expect.stringMatching(/^(docker 20\.10|hand \(docker 20\.10 lacks .+\))/),
      buildArgs: expect.any(Object),
      baseLayers: expect.any(Number),
      platform: "linux/amd64",
      needsHttp: expect.any(Boolean),
      knownDifferences: expect.any(Array),
    });
    expect(meta.target === null || typeof meta.target === "string").toBe(true);
    for (const k of meta.knownDifferences) {
      expect(k.reason.length, `${c}: a known difference needs a reason`).toBeGreaterThan(20);
      expect(
        k.path !== undefined || k.field !== undefined,
        `${c}: a known difference needs path or field`,
      ).toBe(true);
    }

    const d = read<ImageDescription>(c, "expected.json");
    // Every layer in the image has a history entry without empty_layer: base layers + the build's own.
    const nonEmpty = d.config.history.filter((h) => !h.empty_layer).length;
    expect(nonEmpty, `${c}: history vs layers`).toBe(meta.baseLayers + d.layers.length);
    for (const entries of [...d.layers, d.tree]) {
      const paths = entries.map((e) => e.path);
      expect(paths, `${c}: entries sorted and unique`).toEqual([...new Set(paths)]);
      for (const e of entries) {
        if (e.type !== "whiteout" && e.type !== "opaque") expect(e.mode).toMatch(/^[0-7]{4}$/);
      }
    }
    // (copy-replace-file writes through the base's /bin/cat -> busybox symlink, replacing busybox)
    if (meta.baseLayers > 0 && !d.layers.flat().some((e) => e.path === "/bin/busybox")) {
      expect(d.tree.find((e) => e.path === "/bin/busybox")?.sha256, `${c}: busybox of the bases`).toBe(
        BUSYBOX_SHA256,
      );
    }
  });

  it.each(CASES)("%s: every known difference points at something the recording has", (c) => {
    const meta = read<CaseJson>(c, "case.json");
    const d = read<ImageDescription>(c, "expected.json");
    // every entry with the layer it is in (the tree's without one)
    const entries = [
      ...d.layers.flatMap((l, layer) => l.map((e) => ({ e, layer }))),
      ...d.tree.map((e) => ({ e, layer: undefined })),
    ];
    for (const k of meta.knownDifferences.filter((k) => k.path !== undefined)) {
      // where it points, whatever value current BuildKit gives there
      const { current: _, ...where } = k;
      const hit = entries.some(({ e, layer }) =>
        explains(where, {
          where: layer === undefined ? "tree" : "layers",
          ...(layer === undefined ? {} : { layer }),
          path: e.path,
          field: k.field ?? "entry",
          expected: 0,
          actual: 1,
          text: "",
        }),
      );
      expect(hit, `${c}: ${k.path} matches no entry`).toBe(true);
    }
  });
});

describe("golden setup.sh", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "golden-setup-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(CASES)("%s: setup.sh makes the same context twice", (c) => {
    const lists = ["a", "b"].map((run) => {
      const ctx = join(dir, c, run, "ctx");
      execFileSync("bash", [join(BUILD, c, "setup.sh"), ctx, join(dir, c, run, "extra")], { stdio: "pipe" });
      return [listing(ctx), listing(join(dir, c, run, "extra"))];
    });
    expect(lists[1]).toEqual(lists[0]);
  });
});
