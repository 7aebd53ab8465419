import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { LowerStats, prefetchBytes, upperDiff } from "./diff.js";
import { LowerView } from "./lowers.js";
import { readScan, scanCommand, scanTree } from "./scan.js";
import {
  type Snapshot,
  type SnapshotContext,
  type SnapshotKind,
  type Snapshotter,
  shq,
} from "./snapshotter.js";

/** MAX_MOUNT_DATA is what overlay's options may take: the kernel copies one page of mount data. */
const MAX_MOUNT_DATA = 4000;

/**
 * fitsOverlay says whether the lowers fit one overlay mount (with the upper
 * and work dir paths); runStep uses a copied rootfs when they do not.
 */
export function fitsOverlay(lowerDirs: readonly string[], workDir: string): boolean {
  return lowerOption(lowerDirs).lowers.length + 2 * workDir.length + 64 < MAX_MOUNT_DATA;
}

/**
 * overlayOptions is the mount data for the lowers (topmost first, as overlayfs
 * wants them). When every lower lives in one directory (the layer cache), the
 * mount runs from there with bare names, so ~60 layers fit in the one page
 * of mount data instead of ~30.
 */
function lowerOption(lowerDirs: readonly string[]): { cd?: string; lowers: string } {
  const top = [...lowerDirs].reverse();
  const parents = new Set(top.map((d) => dirname(d)));
  if (parents.size === 1 && top.length > 1)
    return { cd: [...parents][0]!, lowers: top.map((d) => basename(d)).join(":") };
  return { lowers: top.join(":") };
}

/**
 * OverlaySnapshotter mounts the lowers with an upper and work dir inside
 * the sandbox's mount namespace: kernel overlayfs (with `userxattr` in a
 * user namespace; redirect_dir and metacopy off, so the upper dir is a
 * plain diff), or fuse-overlayfs in the foreground of the sandbox's process
 * group where the kernel refuses. The upper dir is the diff (upperDiff).
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly kind: SnapshotKind;

  constructor(kind: "overlay" | "fuse-overlayfs" = "overlay") {
    this.kind = kind;
  }

  async prepare(ctx: SnapshotContext): Promise<Snapshot> {
    const upper = join(ctx.workDir, "upper");
    const work = join(ctx.workDir, "work");
    const rootfs = join(ctx.workDir, "rootfs");
    await Promise.all([mkdir(upper), mkdir(work), mkdir(rootfs)]);
    const { cd, lowers } = lowerOption(
      ctx.lowerDirs.length > 0 ? ctx.lowerDirs : [join(ctx.workDir, "empty")],
    );
    if (ctx.lowerDirs.length === 0) await mkdir(join(ctx.workDir, "empty"));
    const setup: string[] = [];
    const teardown: string[] = [];
    if (this.kind === "overlay") {
      const opts = [`lowerdir=${lowers}`, `upperdir=${upper}`, `workdir=${work}`];
      opts.push(
        ...(ctx.identity.rootless ? ["userxattr"] : ["redirect_dir=off", "metacopy=off", "index=off"]),
      );
      setup.push(
        `(${cd ? `cd ${shq(cd)} && ` : ""}mount -t overlay overlay -o ${shq(opts.join(","))} ${shq(rootfs)})`,
      );
    } else {
      const opts = [`lowerdir=${lowers}`, `upperdir=${upper}`, `workdir=${work}`];
      // Foreground, in the sandbox's process group: an abort that kills the group ends it too.
      setup.push(
        `(${cd ? `cd ${shq(cd)} && ` : ""}exec fuse-overlayfs -f -o ${shq(opts.join(","))} ${shq(rootfs)} 2>${shq(join(ctx.workDir, "fuse.log"))}) &`,
        `for i in $(seq 200); do mountpoint -q ${shq(rootfs)} && break; sleep 0.01; done`,
        `mountpoint -q ${shq(rootfs)} || { cat ${shq(join(ctx.workDir, "fuse.log"))} >&2; exit 1; }`,
      );
      teardown.push(`fusermount3 -u ${shq(rootfs)} 2>/dev/null || umount ${shq(rootfs)}`);
    }
    const identity = ctx.identity;
    const lowerView = new LowerView(ctx.lowerDirs);
    // The sandbox lists the upper dir as soon as the step is done, inside its own namespaces.
    const listing = join(ctx.workDir, "upper.scan");
    teardown.push(scanCommand(upper, listing));
    return {
      kind: this.kind,
      rootfs,
      setup,
      teardown,
      async diff(stubs) {
        const scanned = (await readScan(upper, listing)) ?? (await scanTree(identity, upper));
        const lowerStats = new LowerStats(identity, lowerView);
        await lowerStats.prefetch(scanned.map((e) => e.path));
        const ctx = { identity, root: upper, lowers: lowerView, lowerStats, stubs };
        return upperDiff({ ...ctx, sameBytes: await prefetchBytes(ctx, scanned) }, scanned);
      },
    };
  }
}
