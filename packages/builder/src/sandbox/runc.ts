import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { SandboxError } from "../errors.js";
import { shq } from "../snapshot/snapshotter.js";
import { DOCTOR, spawnInNamespace } from "./namespace.js";
import type { Sandbox, SandboxExit, SandboxRunOptions } from "./sandbox.js";
import { type Slirp, startSlirp } from "./slirp.js";
import { runtimeSpec } from "./spec.js";

/** OUTPUT_TAIL is how many bytes of output a failure keeps. */
const OUTPUT_TAIL = 8192;
/** TAIL_LINES is how many lines of it the error shows. */
const TAIL_LINES = 10;

/**
 * RuncSandbox runs the process with `runc run` inside a helper `sh` that
 * holds the namespaces: a private mount namespace (the rootfs mount lives and
 * dies there), a network namespace with loopback up for `--network none`
 * (and slirp4netns's tap device for "private"), a pid namespace whose pid 1
 * it is, and when rootless a user namespace mapping the user to 0 and its
 * subordinate ids. runc then makes the container's pid, ipc, uts and mount
 * namespaces itself. The helper leads its own process group; an abort kills
 * the group, and the container dies with the helper's pid namespace.
 */
export class RuncSandbox implements Sandbox {
  async run(o: SandboxRunOptions): Promise<SandboxExit> {
    o.signal?.throwIfAborted();
    const bundle = join(o.workDir, "bundle");
    const state = join(o.workDir, "runc");
    const started = join(o.workDir, "started");
    const runcLog = join(o.workDir, "runc.log");
    await mkdir(bundle);
    const ownNetwork = o.network === "none" || o.network === "private";
    const spec = runtimeSpec({
      rootfs: o.snapshot.rootfs,
      args: o.args,
      env: o.env,
      cwd: o.cwd,
      user: o.user,
      hostname: o.hostname,
      rootless: o.identity.rootless,
      ownNetwork,
      mounts: o.mounts,
      terminal: o.terminal ?? false,
    });
    await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
    const id = o.id ?? `tsbuild-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const runtime = o.runtime ?? "runc";
    // runc's own log (rootless cgroup warnings and the like) goes to a file, not into the process's output.
    const runc = `${shq(runtime)} --root ${shq(state)} --log ${shq(runcLog)} --log-format json run --bundle ${shq(bundle)} ${shq(id)}`;
    // A conversation on fd 4: the helper says its namespaces are up, the host sets up the network and
    // says go, then sends signal names, which the helper delivers to runc (runc passes them on).
    const control = o.network === "private" || o.onStart !== undefined;
    const pidFile = join(o.workDir, "runc.pid");
    const script = [
      "set -e",
      ...o.snapshot.setup,
      ...o.setup,
      ...(ownNetwork ? ["ip link set lo up"] : []),
      `: > ${shq(started)}`,
      ...(control
        ? [
            "echo >&4",
            "read _ <&4",
            "set +e",
            `(while read s; do while [ ! -s ${shq(pidFile)} ]; do sleep 0.05; done; kill -s "$s" "$(cat ${shq(pidFile)})"; done) <&4 &`,
            "exec 4<&-",
            `sh -c 'echo $$ > "$0"; exec "$@"' ${shq(pidFile)} ${runc}`,
          ]
        : ["set +e", `${runc}${o.stdio ? "" : " </dev/null"}`]),
      "rc=$?",
      ...o.snapshot.teardown,
      "exit $rc",
    ].join("\n");
    const child = await spawnInNamespace(o.identity, "sh", ["-c", script], {
      mount: true,
      net: ownNetwork,
      detached: true,
      tied: true,
      control,
      ...(o.stdio && { stdio: o.stdio }),
    });
    let tail = Buffer.alloc(0);
    const onData = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > OUTPUT_TAIL) tail = tail.subarray(tail.length - OUTPUT_TAIL);
      o.onOutput?.(chunk, stream);
    };
    child.stdout?.on("data", onData("stdout"));
    child.stderr?.on("data", onData("stderr"));
    const kill = (): void => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    o.signal?.addEventListener("abort", kill, { once: true });
    // Aborted while the helper was starting: the listener above will not fire any more.
    if (o.signal?.aborted) kill();
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal })),
    );
    let result: { code: number | null; signal: NodeJS.Signals | null };
    try {
      if (control) await this.#converse(o, child, closed, kill);
      result = await closed;
    } finally {
      o.signal?.removeEventListener("abort", kill);
    }
    // The helper is pid 1 of its own pid namespace (tied): the container died with it.
    if (o.signal?.aborted) throw o.signal.reason;
    const startError = result.code !== 0 ? runcErrors(runcLog) : "";
    if (startError && child.stderr) {
      // Why runc could not start the process (exec: "/bin/sh": no such file…) is in its log; runc
      // usually prints it on stderr too, so only what the output does not hold yet is added.
      const seen = tail.toString();
      const why = startError
        .split("\n")
        .filter((l) => l !== "" && !seen.includes(l))
        .map((l) => `${l}\n`)
        .join("");
      if (why) {
        o.onOutput?.(Buffer.from(why), "stderr");
        tail = Buffer.concat([tail, Buffer.from(why)]);
      }
    }
    const output = lastLines(tail.toString(), TAIL_LINES);
    if (!existsSync(started)) {
      throw new SandboxError(
        "SANDBOX_FAILED",
        `the sandbox could not be set up (exit ${result.code ?? result.signal}): ${output.trim()}${DOCTOR}`,
      );
    }
    return {
      exitCode: result.code ?? 128 + 9,
      output,
      ...(startError && { startError: startError.trim() }),
    };
  }

  /**
   * converse waits for the helper's namespaces, starts slirp4netns for a
   * private network, lets the helper start runc, and hands onStart a way
   * to signal the process; slirp4netns stops when the helper exits.
   */
  async #converse(
    o: SandboxRunOptions,
    child: ChildProcess,
    closed: Promise<unknown>,
    kill: () => void,
  ): Promise<void> {
    const ctl = child.stdio[4] as Readable & Writable;
    ctl.on("error", () => {});
    const up = await Promise.race([
      new Promise<boolean>((resolve) => ctl.once("data", () => resolve(true))),
      closed.then(() => false),
    ]);
    if (!up) return;
    let slirp: Slirp | undefined;
    if (o.network === "private") {
      try {
        slirp = await startSlirp(child.pid!, o.workDir, o.ports ?? []);
      } catch (err) {
        kill();
        await closed;
        throw err;
      }
      void closed.then(() => slirp?.stop());
    }
    ctl.write("go\n");
    o.onStart?.((sig) => {
      if (ctl.writable) ctl.write(`${sig.replace(/^SIG/, "")}\n`);
    });
  }
}

/** runcErrors are the error-level messages of runc's JSON log, one per line. */
function runcErrors(logFile: string): string {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return "";
  }
  let out = "";
  for (const line of text.split("\n")) {
    try {
      const r = JSON.parse(line) as { level?: string; msg?: string };
      if ((r.level === "error" || r.level === "fatal") && r.msg) out += `${r.msg}\n`;
    } catch {
      // not JSON: skip
    }
  }
  return out;
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-n).join("\n");
}
