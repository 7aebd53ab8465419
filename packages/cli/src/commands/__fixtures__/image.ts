import { execFileSync } from "node:child_process";
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImageStore } from "@tsbuild/oci";
import { expect } from "vitest";
import { runCli, tempDir } from "../../testing.js";

/** Shared helpers of the image command tests: a small tree, and `tsbuild --root ROOT …` in process. */

export const HOUR = 3600;
export const epochTwoHoursAgo = () => String(Math.floor(Date.now() / 1000) - 2 * HOUR);

export async function makeTree(): Promise<string> {
  const dir = await tempDir("tsbuild-tree-");
  await mkdir(join(dir, "etc"));
  await writeFile(join(dir, "etc", "hello"), "hello world\n");
  await writeFile(join(dir, "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(dir, "run.sh"), 0o755);
  await symlink("etc/hello", join(dir, "link"));
  return dir;
}

export async function tsb(root: string, args: string[], options: Parameters<typeof runCli>[1] = {}) {
  return runCli(["--root", root, ...args], options);
}

export async function importTree(root: string, name?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await tsb(root, ["image", "import", await makeTree(), ...(name ? [name] : [])], {
    env: { ...process.env, SOURCE_DATE_EPOCH: epochTwoHoursAgo(), ...env },
  });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

export async function readImage(root: string, name: string) {
  const store = await ImageStore.open({ root });
  try {
    return await store.resolve(name);
  } finally {
    await store.close();
  }
}

/** gunzip decompresses with the system gzip (an independent implementation). */
export function gunzip(b: Buffer): Buffer {
  return execFileSync("gzip", ["-dc"], { input: b });
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** layerId is the chain ID docker prints for a one-layer image's layer when it is deleted (its diffID). */
export async function layerId(root: string, name: string): Promise<string> {
  return (await readImage(root, name)).config.rootfs.diff_ids[0]!;
}
