import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { build } from "@tsbuild/builder";
import { run } from "@tsbuild/cli";
import { ImageStore, parsePlatform } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBases } from "./bases.js";
import type { KnownDifference } from "./compare.js";
import { compareDescriptions, describeImage, type ImageDescription, substitute } from "./describe.js";
import { serveDir } from "./serve.js";

/**
 * Builds every golden case that needs no RUN with tsbuild and compares the image, layer by layer and
 * field by field, with what docker (BuildKit) made of it (expected.json), allowing only the listed,
 * explained differences of each case.
 */
const BUILD = fileURLToPath(new URL("./build/", import.meta.url));
const CASES = readdirSync(BUILD).sort();

interface CaseJson {
  buildArgs: Record<string, string>;
  target: string | null;
  baseLayers: number;
  platform: string;
  needsHttp: boolean;
  secrets?: Record<string, string>;
  knownDifferences: KnownDifference[];
}

let work: string;
let store: ImageStore;

async function cli(args: string[]): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on("data", (c: Buffer) => chunks.push(c));
  out.resume();
  const code = await run(args, { stdout: out, stderr: err, stdin: new PassThrough() });
  if (code !== 0) throw new Error(`tsbuild ${args.join(" ")}: ${Buffer.concat(chunks).toString()}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tsbuild-golden-"));
  const root = join(work, "store");
  for (const file of (await writeBases(join(work, "bases"))).values())
    await cli(["--root", root, "load", "-i", file]);
  store = await ImageStore.open({ root });
}, 120_000);

afterAll(async () => {
  await store?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("golden: tsbuild builds what docker builds", () => {
  it.each(CASES)("%s", async (name) => {
    const dir = join(BUILD, name);
    const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as CaseJson;
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as ImageDescription;
    const ctx = join(work, `ctx-${name}`);
    const extra = join(work, `extra-${name}`);
    execFileSync("bash", [join(dir, "setup.sh"), ctx, extra]);
    let server: Server | undefined;
    const buildArgs = { ...c.buildArgs };
    if (c.needsHttp) {
      const s = await serveDir(join(extra, "http"));
      server = s.server;
      buildArgs.HTTP_BASE = `http://127.0.0.1:${s.port}`;
    }
    try {
      const built = await build({
        store,
        dockerfile: readFileSync(join(dir, "Dockerfile")),
        contextDir: ctx,
        dockerfilePath: join(ctx, "Dockerfile"),
        buildArgs,
        ...(c.target ? { target: c.target } : {}),
        platform: parsePlatform(c.platform),
        secrets: new Map(
          Object.entries(c.secrets ?? {}).map(([id, f]) => [id, readFileSync(join(extra, f))]),
        ),
      }).result;
      let actual = await describeImage(
        {
          config: await store.layout.readBlob(built.configDigest),
          layers: built.manifest.layers.map((l) => () => store.layout.openBlob(l.digest)),
        },
        { baseLayers: c.baseLayers },
      );
      if (server) {
        const port = (server.address() as { port: number }).port;
        actual = substitute(actual, `127.0.0.1:${port}`, "127.0.0.1:HTTP_PORT");
      }
      expect(compareDescriptions(expected, actual, c.knownDifferences)).toEqual([]);
    } finally {
      server?.close();
    }
  });
});
