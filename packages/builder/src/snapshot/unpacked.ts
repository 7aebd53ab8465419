import { lstatSync } from "node:fs";
import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { applyLayer, tarEntries, withFileLock } from "@tsbuild/oci";
import { SandboxError } from "../errors.js";
import { removeTree } from "../run/remove.js";
import { currentIdentity, type Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";
import { scanTree } from "./scan.js";

/** UnpackedLayersOptions tunes the layer cache. */
export interface UnpackedLayersOptions {
  /** identity: whose namespace owns the files (default: this process's, see currentIdentity). */
  identity?: Identity;
  /** onWarning hears about entries that could not be applied as given (device nodes rootless, unmapped owners). */
  onWarning?: (message: string) => void;
}

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** dirName is a chain ID's directory: the bare hex, since ":" separates overlay lowerdirs. */
function dirName(chainId: string): string {
  const hex = chainId.slice(chainId.indexOf(":") + 1);
  if (!/^[A-Za-z0-9_.-]+$/.test(hex)) throw new SandboxError("UNPACK_FAILED", `not a chain ID: ${chainId}`);
  return hex;
}

/** cleanPath is a tar name as a relative path ("./a/b/" → "a/b"); undefined when it climbs out. */
function cleanPath(name: string): string | undefined {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  return parts.includes("..") ? undefined : parts.join("/");
}

/**
 * UnpackedLayers is the layer cache of RUN steps: each layer unpacked once
 * into `<root>/<chainID hex>` with @tsbuild/oci's applyLayer (a hostile
 * layer can never write outside its directory), its whiteouts turned into
 * overlay form (`.wh.NAME` → a 0/0 character device, `.wh..wh..opq` → the
 * `trusted.overlay.opaque` xattr, `user.overlay.opaque` when rootless).
 * Rootless, applyLayer cannot chown; the owners the layer names are then set
 * from inside the user namespace, so a step sees the files as the image made
 * them. Unpacking goes to a temp dir renamed into place under a per-layer
 * lock: concurrent builds share the cache and never see a half-made layer.
 */
export class UnpackedLayers {
  readonly root: string;
  readonly #identity: Identity;
  readonly #warn: (message: string) => void;

  constructor(root: string, options: UnpackedLayersOptions = {}) {
    // Absolute: the namespace helpers change directory, and overlay wants absolute lowerdirs.
    this.root = resolve(root);
    this.#identity = options.identity ?? currentIdentity();
    this.#warn = options.onWarning ?? (() => {});
  }

  /** ensure returns the layer's directory, unpacking `open()`'s gzip (or plain) tar stream first if needed. */
  async ensure(
    chainId: string,
    parentChainId: string | undefined,
    open: () => Promise<Readable>,
  ): Promise<string> {
    const name = dirName(chainId);
    const dir = join(this.root, name);
    if (exists(dir)) return dir;
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    return withFileLock(join(this.root, `${name}.lock`), async () => {
      if (exists(dir)) return dir;
      const tmp = join(this.root, `.tmp-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
      try {
        await this.#unpack(tmp, await open());
        // The parent is recorded for tools that walk the cache; the directory holds only this layer.
        if (parentChainId) await writeFile(join(this.root, `${name}.parent`), `${parentChainId}\n`);
        await rename(tmp, dir);
      } catch (err) {
        await removeTree(this.#identity, tmp).catch(() => {});
        if (err instanceof SandboxError) throw err;
        throw new SandboxError("UNPACK_FAILED", `cannot unpack layer ${chainId}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return dir;
    });
  }

  /** prune removes every unpacked layer (none may be in use by a running build) and returns how many it removed. */
  async prune(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const n of names) {
      if (n.endsWith(".lock") || n.endsWith(".parent")) continue;
      const path = join(this.root, n);
      if (n.startsWith(".tmp-")) {
        await removeTree(this.#identity, path);
        continue;
      }
      await withFileLock(join(this.root, `${n}.lock`), async () => {
        await removeTree(this.#identity, path);
        await removeTree(this.#identity, join(this.root, `${n}.parent`));
      });
      removed++;
    }
    return removed;
  }

  async #unpack(tmp: string, source: Readable): Promise<void> {
    const rootless = this.#identity.rootless;
    const forApply = new PassThrough();
    const forScan = new PassThrough();
    const feeding = pipeline(source, async (src: AsyncIterable<Buffer>) => {
      for await (const chunk of src) {
        forApply.write(chunk);
        forScan.write(chunk);
        // Both readers must keep up; check each again after waiting (a drain may come while we wait on the other).
        for (const s of [forApply, forScan]) {
          if (s.writableNeedDrain) await new Promise((r) => s.once("drain", r));
        }
      }
      forApply.end();
      forScan.end();
    });
    const whiteouts: string[] = [];
    const opaque: string[] = [];
    const owners = new Map<string, { uid: number; gid: number; mode: number }>();
    const scanning = (async () => {
      for await (const { info, body } of tarEntries(forScan)) {
        body.resume();
        const rel = cleanPath(info.name);
        if (rel === undefined || rel === "") continue;
        const base = rel.slice(rel.lastIndexOf("/") + 1);
        const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
        if (base === OPAQUE) opaque.push(parent);
        else if (base.startsWith(WH)) whiteouts.push(`${parent ? `${parent}/` : ""}${base.slice(WH.length)}`);
        else if (rootless && (info.uid !== 0 || info.gid !== 0))
          owners.set(rel, { uid: info.uid, gid: info.gid, mode: info.mode });
      }
    })();
    const applying = applyLayer(forApply, tmp, {
      ...(rootless && { sameOwner: false, devices: "skip" as const }),
      onWarning: (m, where) => this.#warn(`${where}: ${m}`),
    });
    await Promise.all([feeding, scanning, applying]);
    await this.#overlayForm(tmp, whiteouts, opaque, owners);
  }

  /** overlayForm makes whiteouts and opaque markers overlay's, and (rootless) sets owners, as the namespace's root. */
  async #overlayForm(
    tmp: string,
    whiteouts: string[],
    opaque: string[],
    owners: Map<string, { uid: number; gid: number; mode: number }>,
  ): Promise<void> {
    const lists = join(`${tmp}.lists`);
    await mkdir(lists);
    try {
      const script = ["set -e", `cd "$1"`];
      // Whiteouts need their directory; make it (never through a symlink: applyLayer left none above the layer's own).
      const whDirs = new Set<string>();
      const whPaths: string[] = [];
      for (const w of whiteouts) {
        const parent = w.includes("/") ? w.slice(0, w.lastIndexOf("/")) : "";
        if (parent && !isRealDirChain(tmp, parent)) {
          this.#warn(`whiteout ${w} skipped: its directory is not a directory of this layer`);
          continue;
        }
        if (parent) whDirs.add(parent);
        whPaths.push(w);
      }
      const attr = this.#identity.rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
      const opaqueDirs = opaque.filter((d) => d === "" || isRealDirChain(tmp, d)).map((d) => d || ".");
      await writeFile(join(lists, "whdirs"), [...whDirs].join("\0"));
      await writeFile(join(lists, "wh"), whPaths.join("\0"));
      await writeFile(join(lists, "opq"), opaqueDirs.join("\0"));
      script.push(
        `xargs -0 -r mkdir -p -- < "$2/whdirs"`,
        `xargs -0 -r rm -rf -- < "$2/wh"`,
        `xargs -0 -r -I{} mknod -- {} c 0 0 < "$2/wh"`,
        `xargs -0 -r setfattr -h -n ${attr} -v y -- < "$2/opq"`,
      );
      if (owners.size > 0) {
        // Only paths that really are where the tar named them (no symlinked parents): the scan's own paths.
        const scanned = await scanTree(this.#identity, tmp, false);
        const groups = new Map<string, string[]>();
        const modes = new Map<string, string[]>();
        for (const e of scanned) {
          const o = owners.get(e.path);
          if (!o) continue;
          const key = `${o.uid}:${o.gid}`;
          groups.set(key, [...(groups.get(key) ?? []), e.path]);
          if (e.type !== "l" && (o.mode & 0o6000) !== 0) {
            const m = o.mode.toString(8);
            modes.set(m, [...(modes.get(m) ?? []), e.path]);
          }
        }
        let i = 0;
        for (const [key, paths] of groups) {
          await writeFile(join(lists, `own${i}`), paths.join("\0"));
          script.push(
            `xargs -0 -r chown -h ${key} -- < "$2/own${i}" || echo "owner ${key} not mapped in the user namespace: left as 0:0" >&2`,
          );
          i++;
        }
        // chown clears setuid/setgid: put them back.
        for (const [mode, paths] of modes) {
          await writeFile(join(lists, `mode${i}`), paths.join("\0"));
          script.push(`xargs -0 -r chmod ${mode} -- < "$2/mode${i}"`);
          i++;
        }
      }
      const r = await runInNamespace(this.#identity, "sh", ["-c", script.join("\n"), "sh", tmp, lists]);
      for (const line of r.stderr.split("\n")) if (line.trim()) this.#warn(line.trim());
    } finally {
      await removeTree(this.#identity, lists);
    }
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** isRealDirChain says whether every component of `rel` under `root` is a directory, not a symlink (or missing). */
function isRealDirChain(root: string, rel: string): boolean {
  let p = root;
  for (const part of rel.split("/")) {
    p = join(p, part);
    try {
      const st = lstatSync(p);
      if (!st.isDirectory()) return false;
    } catch {
      // missing: mkdir -p makes it, as a real directory
    }
  }
  return true;
}
