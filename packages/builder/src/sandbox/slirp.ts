import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { SandboxError } from "../errors.js";

/** SLIRP_GUEST is the container's address on slirp4netns's network (--configure's default). */
export const SLIRP_GUEST = "10.0.2.100";
/** SLIRP_DNS is slirp4netns's built-in resolver, which forwards to the host's. */
export const SLIRP_DNS = "10.0.2.3";

/** PortForward is one `-p [IP:]HOST:CONTAINER[/PROTO]`. */
export interface PortForward {
  /** hostIp is the host address to listen on (default 0.0.0.0, as docker's). */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

/** Slirp is a running slirp4netns; stop() ends it (it also ends when this process does). */
export interface Slirp {
  stop(): Promise<void>;
}

/**
 * startSlirp gives the network namespace of `pid` a tap device to the
 * host's network through slirp4netns, as rootless podman does, and forwards
 * `ports` from the host to the container through its API socket
 * (`add_hostfwd`). It runs as this process, in the host's network namespace
 * (joining the user namespace of `pid` when rootless), and exits when this
 * process does (`--exit-fd`). Without slirp4netns: NO_SLIRP4NETNS, naming
 * the package.
 */
export async function startSlirp(
  pid: number,
  workDir: string,
  ports: readonly PortForward[],
): Promise<Slirp> {
  const api = join(workDir, "slirp.sock");
  const child = spawn(
    "slirp4netns",
    [
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      "--api-socket",
      api,
      "--ready-fd=3",
      "--exit-fd=4",
      String(pid),
      "tap0",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once("close", resolve));
    // Closing the exit fd is slirp4netns's own way to stop.
    (child.stdio[4] as Readable).destroy();
    child.kill("SIGTERM");
    await gone;
  };
  try {
    await ready(child);
    for (const p of ports) await addHostFwd(api, p);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/** ready waits for slirp4netns to write "1" to its ready fd, or fails with what it printed. */
function ready(child: ChildProcess): Promise<void> {
  const errors: Buffer[] = [];
  child.stderr?.on("data", (c: Buffer) => errors.push(c));
  return new Promise<void>((resolve, reject) => {
    child.once("error", (err) => {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        missing
          ? new SandboxError(
              "NO_SLIRP4NETNS",
              "publishing ports (-p) needs slirp4netns, which is not installed: install Debian's package slirp4netns (apt-get install slirp4netns)",
            )
          : new SandboxError("PORT_FORWARD_FAILED", `cannot start slirp4netns: ${err.message}`, {
              cause: err,
            }),
      );
    });
    (child.stdio[3] as Readable).once("data", () => resolve());
    child.once("exit", (code, signal) => {
      const said = Buffer.concat(errors).toString().trim();
      const tun = /open\("\/dev\/net\/tun"\): Permission denied/.test(said)
        ? " (rootless, slirp4netns needs /dev/net/tun usable by every user, as udev makes it: sudo chmod 0666 /dev/net/tun)"
        : "";
      reject(
        new SandboxError(
          "PORT_FORWARD_FAILED",
          `slirp4netns exited ${code ?? signal} before the network was up: ${said}${tun}`,
        ),
      );
    });
  });
}

/** addHostFwd asks slirp4netns's API to forward a host port to the container. */
function addHostFwd(api: string, p: PortForward): Promise<void> {
  const request = {
    execute: "add_hostfwd",
    arguments: {
      proto: p.protocol,
      host_addr: p.hostIp ?? "0.0.0.0",
      host_port: p.hostPort,
      guest_addr: SLIRP_GUEST,
      guest_port: p.containerPort,
    },
  };
  const what = `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
  return new Promise<void>((resolve, reject) => {
    const socket = connect(api);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err) =>
      reject(
        new SandboxError("PORT_FORWARD_FAILED", `cannot publish ${what}: ${err.message}`, { cause: err }),
      ),
    );
    socket.on("end", () => {
      let reply: { error?: { desc?: string } };
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString()) as typeof reply;
      } catch {
        reply = { error: { desc: `unreadable reply ${JSON.stringify(Buffer.concat(chunks).toString())}` } };
      }
      if (reply.error) {
        reject(
          new SandboxError(
            "PORT_FORWARD_FAILED",
            `cannot publish ${what}: ${reply.error.desc ?? JSON.stringify(reply.error)} (is the port in use?)`,
          ),
        );
      } else resolve();
    });
    socket.end(JSON.stringify(request));
  });
}
