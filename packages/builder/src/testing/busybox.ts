import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createLayer, type LayerEntry } from "@tsbuild/oci";

/** BUSYBOX is Debian's busybox-static, the one binary the RUN tests' rootfs needs. */
export const BUSYBOX = "/usr/bin/busybox";

/**
 * busyboxEntries is a tiny rootfs: busybox and its applets in /bin, passwd/group with root, app (1000) and
 * nobody, and the /dev, /proc and /sys mount points real bases have (without them, a RUN's layer holds
 * the ones runc makes, as docker's does).
 */
export function busyboxEntries(): LayerEntry[] {
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  const dir = (path: string, mode = 0o755): LayerEntry => ({ path, type: "dir", mode, mtime: 1_700_000_000 });
  const file = (path: string, content: string, mode = 0o644): LayerEntry => ({
    path,
    type: "file",
    mode,
    content,
    mtime: 1_700_000_000,
  });
  return [
    dir("bin"),
    {
      path: "bin/busybox",
      type: "file",
      mode: 0o755,
      content: { file: BUSYBOX },
      size: sizeOf(BUSYBOX),
      mtime: 1_700_000_000,
    },
    ...applets
      .filter((a) => a !== "busybox")
      .map(
        (a): LayerEntry => ({ path: `bin/${a}`, type: "symlink", linkname: "busybox", mtime: 1_700_000_000 }),
      ),
    dir("etc"),
    file(
      "etc/passwd",
      "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    ),
    file("etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n"),
    dir("root", 0o700),
    dir("tmp", 0o1777),
    dir("dev"),
    dir("proc"),
    dir("sys"),
  ];
}

function sizeOf(p: string): number {
  return Number(execFileSync("stat", ["-c", "%s", p], { encoding: "utf8" }).trim());
}

/** writeLayerFile writes a gzip layer of `entries` to `path` and returns its diffID. */
export async function writeLayerFile(path: string, entries: LayerEntry[]): Promise<string> {
  const { stream, result } = createLayer({ entries }, { sourceDateEpoch: 1_700_000_000 });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  await writeFile(path, Buffer.concat(chunks));
  return (await result).diffId;
}
