import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { OciError } from "../errors.js";

/** tempName gives a unique file name carrying our pid, so debris of a dead process can be recognised. */
export function tempName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** pidOfTempName reads the pid back out of a {@link tempName}, or undefined. */
export function pidOfTempName(name: string): number | undefined {
  const m = /-(\d+)-[0-9a-f]{12}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** isProcessAlive tells whether a process with this pid exists (EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** fsyncDir makes a rename or unlink in `dir` durable; filesystems that refuse are ignored. */
export async function fsyncDir(dir: string): Promise<void> {
  let h: Awaited<ReturnType<typeof open>> | undefined;
  try {
    h = await open(dir, constants.O_RDONLY);
    await h.sync();
  } catch {
    // Some filesystems do not support fsync on directories; the rename is still atomic.
  } finally {
    await h?.close().catch(() => {});
  }
}

/**
 * writeFileAtomic writes `data` to `path` so that readers see either the old
 * or the new file, never a torn one, even when the process is killed: temp file
 * in the same directory, fsync, rename, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${tempName("tmp")}`);
  const h = await open(tmp, "wx", 0o644);
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (err) {
    await h.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await h.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/** errnoText is the strerror part of a Node file-system error ("permission denied"), else its message. */
function errnoText(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return m?.[1] ?? err.message;
}

/**
 * fileError turns a Node file-system error into an OciError that says what
 * tsbuild was doing (`doing`: "writing a blob to /store") and where: NO_SPACE
 * for a full disk or quota, READ_ONLY for a read-only file system, FILE_ERROR
 * otherwise, naming `path`. Errors that are not errno errors pass through.
 */
export function fileError(err: unknown, doing: string, path?: string): unknown {
  if (err instanceof OciError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code !== "string" || typeof e.syscall !== "string") return err;
  if (e.code === "ENOSPC" || e.code === "EDQUOT") {
    return new OciError("NO_SPACE", `no space left on device while ${doing}`, { cause: err });
  }
  if (e.code === "EROFS") {
    return new OciError("READ_ONLY", `read-only file system while ${doing}`, { cause: err });
  }
  const where = e.path ?? path;
  return new OciError("FILE_ERROR", `${errnoText(e)} while ${doing}`, {
    ...(where !== undefined && { where }),
    cause: err,
  });
}
