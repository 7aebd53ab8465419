import { randomBytes } from "node:crypto";
import { lstatSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
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

/** UnpackedHold keeps layers from prune while a build step or a container uses them. */
export interface UnpackedHold {
  release(): Promise<void>;
}

/** UnpackedLayer is one directory of the cache, for `system df`. */
export interface UnpackedLayer {
  /** name is the chain ID's hex (the directory's name). */
  name: string;
  /** bytes are its regular files' sizes (what this process can read of it). */
  bytes: number;
  /** inUse: a live process holds it (a running build step or container). */
  inUse: boolean;
}

/** HOLDS is the cache's directory of hold files: `<pid>-<random>`, one chain ID hex a line. */
const HOLDS = ".holds";

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
  /** #held are the names this instance holds (ensure checks them under their lock). */
  readonly #held = new Map<string, number>();

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
    // A held layer is checked under its lock: a prune that started before the hold may be removing it.
    if (exists(dir) && !this.#held.has(name)) return dir;
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

  /**
   * hold keeps the layers from prune until release() (in this process and
   * others): a hold file names them, which prune reads under each layer's
   * lock; files of dead processes are ignored and removed. Hold before
   * ensure, so a layer ensure returns is never one a prune is removing.
   */
  async hold(chainIds: readonly string[]): Promise<UnpackedHold> {
    const names = chainIds.map(dirName);
    const dir = join(this.root, HOLDS);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const file = join(dir, `${process.pid}-${randomBytes(6).toString("hex")}`);
    await writeFile(file, names.map((n) => `${n}\n`).join(""));
    for (const n of names) this.#held.set(n, (this.#held.get(n) ?? 0) + 1);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        for (const n of names) {
          const left = (this.#held.get(n) ?? 1) - 1;
          if (left > 0) this.#held.set(n, left);
          else this.#held.delete(n);
        }
        await rm(file, { force: true });
      },
    };
  }

  /** #holders reads the names live processes hold, removing the hold files of dead ones. */
  async #holders(): Promise<Set<string>> {
    const dir = join(this.root, HOLDS);
    const out = new Set<string>();
    let files: string[];
    try {
      files = await readdir(dir);
    } catch {
      return out;
    }
    for (const f of files) {
      const pid = Number(f.split("-", 1)[0]);
      if (!Number.isInteger(pid) || !isAlive(pid)) {
        await rm(join(dir, f), { force: true });
        continue;
      }
      const text = await readFile(join(dir, f), "utf8").catch(() => "");
      for (const n of text.split("\n")) if (n) out.add(n);
    }
    return out;
  }

  /** #names are the layer directories of the cache (no locks, parents, temp dirs or holds). */
  async #names(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter(
        (n) => !n.endsWith(".lock") && !n.endsWith(".parent") && !n.startsWith("."),
      );
    } catch {
      return [];
    }
  }

  /** usage lists the unpacked layers with their sizes and whether a live process holds them. */
  async usage(): Promise<UnpackedLayer[]> {
    const held = await this.#holders();
    const out: UnpackedLayer[] = [];
    for (const name of await this.#names()) {
      out.push({ name, bytes: await treeBytes(join(this.root, name)), inUse: held.has(name) });
    }
    return out;
  }

  /**
   * prune removes every unpacked layer no live process holds (and debris of
   * unpacks that died) and returns what it removed and the bytes it freed.
   */
  async prune(): Promise<{ removed: number; bytes: number }> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return { removed: 0, bytes: 0 };
    }
    for (const n of names) {
      if (n.startsWith(".tmp-")) await removeTree(this.#identity, join(this.root, n));
    }
    let removed = 0;
    let bytes = 0;
    for (const n of await this.#names()) {
      const path = join(this.root, n);
      await withFileLock(join(this.root, `${n}.lock`), async () => {
        if ((await this.#holders()).has(n) || !exists(path)) return;
        const size = await treeBytes(path);
        await removeTree(this.#identity, path);
        await removeTree(this.#identity, join(this.root, `${n}.parent`));
        removed++;
        bytes += size;
      });
    }
    return { removed, bytes };
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

/** isAlive tells whether a process exists (EPERM: it does, and is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** treeBytes sums the sizes of the regular files under `dir` (unreadable directories count nothing). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) total += await treeBytes(p);
    else if (st.isFile()) total += st.size;
  }
  return total;
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
