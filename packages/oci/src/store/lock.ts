import { link, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { OciError } from "../errors.js";
import { isErrno, isProcessAlive, tempName } from "../layout/fsutil.js";

export interface LockOptions {
  /** timeoutMs bounds the wait for a lock another live process holds (default 60 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** BREAKER_STALE_MS: a breaker file older than this belonged to a process that died while breaking. */
const BREAKER_STALE_MS = 10_000;

/**
 * withFileLock runs `fn` while holding an exclusive lock file at `path`.
 *
 * The lock file holds the owner's pid and appears atomically (written to a
 * temp file, then hard-linked into place, which fails if the lock exists), so
 * a reader never sees an empty lock. A lock whose pid is dead is stale; it is
 * broken under a second lock (`path.break`) that re-reads the pid first, so
 * two waiters that both saw the same stale pid cannot delete a fresh lock.
 * Waiting is bounded: LOCK_TIMEOUT after `timeoutMs`.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await acquire(path, options);
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}

async function acquire(path: string, options: LockOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let delay = 2;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(path, String(process.pid))) return;
    const owner = await readOwner(path);
    if (owner !== undefined && !isProcessAlive(owner)) {
      await breakStale(path, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new OciError(
        "LOCK_TIMEOUT",
        `timed out waiting for the store lock held by pid ${owner ?? "?"}; if no tsbuild process is running, remove the file`,
        { where: path },
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** tryCreate makes `path` with `content` atomically; false when it already exists. */
async function tryCreate(path: string, content: string): Promise<boolean> {
  const tmp = join(dirname(path), `.${tempName("tmp-lock")}`);
  const h = await open(tmp, "wx", 0o644);
  try {
    await h.writeFile(content);
  } finally {
    await h.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readOwner(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function breakStale(path: string, stalePid: number): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await tryCreate(breaker, String(process.pid)))) {
    // Someone else is breaking it; a breaker left by a dead process is removed after a while.
    const st = await stat(breaker).catch(() => undefined);
    const owner = await readOwner(breaker);
    if (st && Date.now() - st.mtimeMs > BREAKER_STALE_MS && (owner === undefined || !isProcessAlive(owner))) {
      await unlink(breaker).catch(() => {});
    }
    await sleep(5);
    return;
  }
  try {
    if ((await readOwner(path)) === stalePid) await unlink(path).catch(() => {});
  } finally {
    await unlink(breaker).catch(() => {});
  }
}
