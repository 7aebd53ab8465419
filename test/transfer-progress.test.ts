import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestHex, ImageStore, type StoredImage } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../packages/cli/src/testing.js";
import { Screen } from "../packages/cli/src/testing-vt.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { runInPty } from "./support/pty.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * push, pull, save and load on a real terminal: each layer is a row of the same live view builds use
 * (repainted in place, a bar with bytes and rate while it moves), and the final screen is docker's
 * last word on each layer followed by docker's lines.
 */

const repo = fileURLToPath(new URL("..", import.meta.url));
const TSBUILD = join(repo, "bin/tsbuild");

let registry: TestRegistry;
let dir: string;
let image: StoredImage;
let name: string;

/** tty runs `tsbuild ARGS` on an 80-column pseudo-terminal and returns its final screen, times as T. */
async function tty(root: string, args: string[]): Promise<string> {
  const r = await runInPty([process.execPath, TSBUILD, "--root", root, ...args], {
    env: { ...process.env, NO_COLOR: "", DOCKER_CONFIG: join(dir, "docker") },
  });
  const raw = r.output.toString("utf8");
  expect(r.code, raw).toBe(0);
  expect(raw).toMatch(/\x1b\[\d+A/); // repainted in place
  return new Screen(80)
    .write(r.output)
    .text()
    .replace(/\d+\.\ds/g, "T")
    .replace(/sha256:[0-9a-f]{64}/g, "sha256:…");
}

/** row is a finished layer's line: its id and state, its time at the right edge of 80 columns. */
const row = (id: string, state: string) => ` => ${`${id}: ${state}`.padEnd(71)}T`;

beforeAll(async () => {
  registry = await startRegistry();
  dir = await tempDir("tsbuild-transfer-");
  name = `${registry.host}/me/progress:1`;
  const store = await ImageStore.open({ root: join(dir, "a") });
  try {
    image = await makeTestImage(store, {
      layers: [
        fileLayer("big", { "random.bin": randomBytes(3_000_000) }),
        fileLayer("etc", { "os-release": "ID=test\n" }),
      ],
      names: [name],
    });
  } finally {
    await store.close();
  }
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("transfer progress on a terminal", () => {
  const layerIds = () => image.manifest.layers.map((l) => digestHex(l.digest).slice(0, 12));
  const diffIds = () => image.config.rootfs.diff_ids.map((d) => digestHex(d).slice(0, 12));

  it("push: a Pushed row per layer, then docker's digest line", async () => {
    const screen = await tty(join(dir, "a"), ["push", name]);
    const [big, etc] = diffIds();
    const lines = screen.split("\n");
    expect(lines[0]).toBe(`The push refers to repository [${registry.host}/me/progress]`);
    expect(lines[1]).toBe("[+] Pushing T (2/2) FINISHED");
    expect(lines.slice(2, 4).sort()).toEqual([row(etc!, "Pushed"), row(big!, "Pushed")].sort());
    // docker's line is wider than the terminal: it wraps, as it would in any 80-column window.
    expect(lines.slice(4).join("")).toMatch(/^1: digest: sha256:[0-9a-f]{64} size: \d+$/);
  });

  it("pull: a Pull complete row per layer, then Digest and Status", async () => {
    const screen = await tty(join(dir, "b"), ["pull", name]);
    const [big, etc] = layerIds();
    const lines = screen.split("\n");
    expect(lines[0]).toBe("1: Pulling from me/progress");
    expect(lines[1]).toBe("[+] Pulling T (2/2) FINISHED");
    expect(lines.slice(2, 4)).toEqual([row(big!, "Pull complete"), row(etc!, "Pull complete")]);
    expect(lines.slice(4)).toEqual(["Digest: sha256:…", `Status: Downloaded newer image for ${name}`, name]);
  });

  it("save and load: a row per layer written, then the loaded names", async () => {
    const archive = join(dir, "image.tar");
    const saved = await tty(join(dir, "a"), ["image", "save", "-o", archive, name]);
    const [big, etc] = layerIds();
    expect(saved.split("\n")).toEqual([
      "[+] Saving T (2/2) FINISHED",
      row(big!, "Saved"),
      row(etc!, "Saved"),
    ]);
    const loaded = await tty(join(dir, "c"), ["image", "load", "-i", archive]);
    expect(loaded.split("\n")).toEqual([
      "[+] Loading T (2/2) FINISHED",
      row(big!, "Loaded"),
      row(etc!, "Loaded"),
      `Loaded image: ${name}`,
    ]);
  });
});
