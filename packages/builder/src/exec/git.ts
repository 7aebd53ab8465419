import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BuildError } from "../errors.js";

const run = promisify(execFile);

/** GIT_SOURCE matches what BuildKit's ADD treats as a git repository (a `.git` URL, git@, git://, ssh://). */
export const GIT_SOURCE = /^(git@|git:\/\/|ssh:\/\/)|^https?:\/\/.*\.git(#.*)?$/;

/** GitCheckout is a cloned repository at the requested ref: the tree to copy and the commit it is. */
export interface GitCheckout {
  dir: string;
  /** subdir is the `#ref:subdir` part, relative ("" for the whole tree). */
  subdir: string;
  commit: string;
}

/**
 * cloneGit is ADD's git source: `URL#ref[:subdir]` cloned with the git binary (a clear error when there
 * is none), checked out at the ref (branch, tag or commit; default HEAD), `.git` removed unless
 * `--keep-git-dir`, and every file's mtime set to the commit's time so the layer depends on the commit
 * alone.
 */
export async function cloneGit(
  source: string,
  keepGitDir: boolean,
  temps: string[],
  signal?: AbortSignal,
): Promise<GitCheckout> {
  const hash = source.indexOf("#");
  const url = hash < 0 ? source : source.slice(0, hash);
  const fragment = hash < 0 ? "" : source.slice(hash + 1);
  const colon = fragment.indexOf(":");
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? "" : fragment.slice(colon + 1).replace(/^\/+|\/+$/g, "");
  const parent = await mkdtemp(join(tmpdir(), "tsbuild-git-"));
  temps.push(parent);
  const dir = join(parent, "repo");
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true", LC_ALL: "C" };
  const git = async (args: string[], cwd?: string): Promise<string> => {
    try {
      const r = await run("git", args, {
        env,
        ...(cwd ? { cwd } : {}),
        ...(signal ? { signal } : {}),
        maxBuffer: 1 << 24,
      });
      return r.stdout.trim();
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") {
        throw new BuildError(
          "UNSUPPORTED",
          `ADD ${source}: a git repository needs the git binary (apt-get install git)`,
        );
      }
      const why = (e.stderr ?? e.message).trim().split("\n").pop();
      throw new BuildError(
        "DOWNLOAD_FAILED",
        `failed to fetch git repository ${url}${ref ? ` at ${ref}` : ""}: ${why}`,
        {
          cause: err,
        },
      );
    }
  };
  await git(["clone", "--quiet", "--no-checkout", url, dir]);
  await git(["checkout", "--quiet", "--detach", ref || "HEAD"], dir);
  await git(["submodule", "update", "--init", "--recursive", "--quiet"], dir).catch(() => "");
  const commit = await git(["rev-parse", "HEAD"], dir);
  const when = await git(["log", "-1", "--format=%ct", "HEAD"], dir);
  if (!keepGitDir) await rm(join(dir, ".git"), { recursive: true, force: true });
  await run("sh", ["-c", 'find "$1" -exec touch -h -d "@$2" {} +', "sh", dir, when]);
  return { dir, subdir, commit };
}
