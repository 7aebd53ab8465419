import { lstatSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { comparePaths, type LayerEntry } from "@tsbuild/oci";
import { SandboxError } from "../errors.js";
import { runInNamespace } from "../sandbox/namespace.js";
import {
  dropStubs,
  entryOf,
  finish,
  LowerStats,
  linkedToNew,
  lowerMatches,
  prefetchBytes,
  whiteoutMtime,
} from "./diff.js";
import { LowerView } from "./lowers.js";
import { readScan, type ScanEntry, scanCommand, scanTree } from "./scan.js";
import {
  type Snapshot,
  type SnapshotContext,
  type SnapshotKind,
  type Snapshotter,
  shq,
} from "./snapshotter.js";

function isWhiteoutDevice(abs: string, e: ScanEntry): boolean {
  if (e.type !== "c") return false;
  try {
    return lstatSync(abs).rdev === 0;
  } catch {
    return true; // rootless: a step in a user namespace can only make 0/0 devices
  }
}

function isOpaqueDir(e: ScanEntry): boolean {
  return (
    e.type === "d" &&
    (e.xattrs["trusted.overlay.opaque"]?.toString() === "y" ||
      e.xattrs["user.overlay.opaque"]?.toString() === "y")
  );
}

/**
 * CopySnapshotter is the fallback where no overlay can be mounted: the
 * lowers are copied (`cp -a`, as the namespace's root, so owners survive)
 * into a private rootfs with their whiteouts applied, and after the step a
 * metadata walk compares the copy with the lowers (type, mode, owner, mtime
 * to the ns, size, link target; bytes when the mtime is whole seconds).
 * Slower than overlay, same layer, except that a replaced directory comes
 * out as whiteouts of its old children rather than an opaque marker (the
 * same tree once applied).
 */
export class CopySnapshotter implements Snapshotter {
  readonly kind: SnapshotKind = "copy";

  async prepare(ctx: SnapshotContext): Promise<Snapshot> {
    const rootfs = join(ctx.workDir, "rootfs");
    await mkdir(rootfs);
    // merged: every path of the lowers' merged view (what a later step sees before it runs).
    const merged = new Set<string>();
    for (const lower of ctx.lowerDirs) {
      ctx.signal?.throwIfAborted();
      const scanned = await scanTree(ctx.identity, lower);
      const remove: string[] = [];
      const devices: string[] = [];
      for (const e of scanned) {
        if (isWhiteoutDevice(join(lower, e.path), e)) {
          remove.push(e.path);
          devices.push(e.path);
          for (const m of [...merged]) if (m === e.path || m.startsWith(`${e.path}/`)) merged.delete(m);
          continue;
        }
        if (isOpaqueDir(e)) {
          for (const m of [...merged]) {
            if (m.startsWith(`${e.path}/`)) {
              merged.delete(m);
              if (m.lastIndexOf("/") === e.path.length) remove.push(m);
            }
          }
        }
        merged.add(e.path);
      }
      for (const p of remove) assertNoSymlinkParents(rootfs, p);
      const list = join(ctx.workDir, "remove.list");
      await writeFile(list, remove.map((p) => join(rootfs, p)).join("\0"));
      const devList = join(ctx.workDir, "devices.list");
      await writeFile(devList, devices.map((p) => join(rootfs, p)).join("\0"));
      // Remove what this layer hides, copy it over, then drop the whiteout devices it carried.
      const parents = [
        ...new Set(devices.map((d) => (d.includes("/") ? d.slice(0, d.lastIndexOf("/")) : "."))),
      ];
      const script = [
        "set -e",
        `xargs -0 -r rm -rf -- < "$1"`,
        `cp -a "$3"/. "$4"/`,
        `xargs -0 -r rm -f -- < "$2"`,
        // Removing the devices touched their directories: give them the layer's mtime back.
        ...parents.map((d) => `touch -h -r ${shq(join(lower, d))} ${shq(join(rootfs, d))}`),
      ].join("\n");
      await runInNamespace(ctx.identity, "sh", ["-c", script, "sh", list, devList, lower, rootfs]);
    }
    const identity = ctx.identity;
    const lowers = new LowerView(ctx.lowerDirs);
    // The copy as the step will find it: what still has the same inode and ctime afterwards was not touched.
    const before = new Map((await scanTree(identity, rootfs, false)).map((e) => [e.path, e]));
    const listing = join(ctx.workDir, "rootfs.scan");
    return {
      kind: this.kind,
      rootfs,
      setup: [],
      teardown: [scanCommand(rootfs, listing)],
      async diff(stubs) {
        const scanned = (await readScan(rootfs, listing)) ?? (await scanTree(identity, rootfs));
        const untouched = new Set<string>();
        for (const e of scanned) {
          const b = before.get(e.path);
          if (b && b.ino === e.ino && b.ctimeNs === e.ctimeNs && b.type === e.type) untouched.add(e.path);
        }
        const lowerStats = new LowerStats(identity, lowers);
        await lowerStats.prefetch(scanned.filter((e) => !untouched.has(e.path)).map((e) => e.path));
        const base = { identity, root: rootfs, lowers, lowerStats, stubs, untouched };
        const dctx = { ...base, sameBytes: await prefetchBytes(base, scanned) };
        const byPath = new Map(scanned.map((e) => [e.path, e]));
        const keep = new Map<string, LayerEntry>();
        const linked = linkedToNew(dctx, scanned);
        for (const e of [...scanned].sort((a, b) => comparePaths(a.path, b.path))) {
          if (!linked.has(e.path) && lowerMatches(dctx, e)) continue;
          keep.set(
            e.path,
            entryOf(dctx, e, e.type === "c" || e.type === "b" ? devNumbers(join(rootfs, e.path)) : undefined),
          );
          // A directory where the lowers have a non-directory: opaque, as overlay (and docker) mark it.
          const lower = e.type === "d" ? lowers.lstat(e.path) : undefined;
          if (lower && !lower.stat.isDirectory()) {
            const marker = `${e.path}/.wh..wh..opq`;
            keep.set(marker, {
              path: marker,
              type: "file",
              mode: 0,
              uid: 0,
              gid: 0,
              mtime: whiteoutMtime(byPath, e.path),
            });
          }
        }
        for (const p of merged) {
          if (byPath.has(p)) continue;
          const parent = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
          if (parent !== "" && !byPath.has(parent)) continue; // the whole parent went: one whiteout there
          if (parent !== "" && byPath.get(parent)?.type !== "d") continue;
          const wh = `${parent ? `${parent}/` : ""}.wh.${p.slice(p.lastIndexOf("/") + 1)}`;
          keep.set(wh, {
            path: wh,
            type: "file",
            mode: 0,
            uid: 0,
            gid: 0,
            mtime: whiteoutMtime(byPath, parent),
          });
        }
        dropStubs(dctx, keep, byPath);
        return finish(keep, byPath, dctx);
      },
    };
  }
}

function devNumbers(abs: string): { major: number; minor: number } {
  const rdev = BigInt(lstatSync(abs).rdev);
  return { major: Number((rdev >> 8n) & 0xfffn), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) };
}

/** assertNoSymlinkParents refuses a removal whose parent directories in the copy are symlinks (it would leave the rootfs). */
function assertNoSymlinkParents(rootfs: string, rel: string): void {
  const parts = rel.split("/");
  let p = rootfs;
  for (const part of parts.slice(0, -1)) {
    p = join(p, part);
    try {
      if (lstatSync(p).isSymbolicLink())
        throw new SandboxError("SNAPSHOT_FAILED", `a lower layer's whiteout ${rel} goes through a symlink`);
    } catch (err) {
      if (err instanceof SandboxError) throw err;
      return; // missing (nothing to remove) or unreadable (the namespace's rm sees no symlink either way)
    }
  }
}
