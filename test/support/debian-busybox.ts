import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** CACHE holds downloads the tests reuse across runs, outside the checkout. */
const CACHE = join(process.env.TSBUILD_TEST_CACHE ?? join(homedir(), ".cache", "tsbuild-test"));

/** debianMirror is the first http(s) mirror the host's apt uses (deb.debian.org when none is found). */
async function debianMirror(): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  const d = "/etc/apt/sources.list.d";
  if (existsSync(d)) {
    for (const f of (await exec("ls", [d])).stdout.split("\n").filter(Boolean)) files.push(join(d, f));
  }
  for (const f of files) {
    const text = await readFile(f, "utf8").catch(() => "");
    const m = text.match(/^\s*(?:URIs:|deb)\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+?\/debian)\/?\s/m);
    if (m?.[1] && !m[1].includes("security")) return m[1];
  }
  return "http://deb.debian.org/debian";
}

/**
 * debianBusybox is the path of Debian bookworm's busybox-static binary for `arch` (a Debian architecture:
 * amd64, arm64, …): the package is found in the mirror's Packages index for it, downloaded once,
 * checked against the index's SHA256, and cached outside the checkout.
 */
export async function debianBusybox(arch: string): Promise<string> {
  const bin = join(CACHE, `busybox-static-${arch}`, "bin", "busybox");
  if (existsSync(bin)) return bin;
  await mkdir(CACHE, { recursive: true });
  const mirror = await debianMirror();
  const tmp = await mkdtemp(join(CACHE, `busybox-${arch}-`));
  try {
    await exec("curl", [
      "-fsSL",
      "-o",
      join(tmp, "Packages.xz"),
      `${mirror}/dists/bookworm/main/binary-${arch}/Packages.xz`,
    ]);
    const { stdout } = await exec("xz", ["-dc", join(tmp, "Packages.xz")], { maxBuffer: 512 * 1024 * 1024 });
    const stanza = stdout.split("\n\n").find((s) => /^Package: busybox-static$/m.test(s));
    const filename = stanza?.match(/^Filename: (.+)$/m)?.[1];
    const sha256 = stanza?.match(/^SHA256: (.+)$/m)?.[1];
    if (!filename || !sha256) throw new Error(`busybox-static is not in ${mirror}'s bookworm ${arch} index`);
    const deb = join(tmp, "busybox.deb");
    await exec("curl", ["-fsSL", "-o", deb, `${mirror}/${filename}`]);
    const got = createHash("sha256")
      .update(await readFile(deb))
      .digest("hex");
    if (got !== sha256) throw new Error(`${filename}: sha256 ${got}, the index says ${sha256}`);
    await exec("dpkg-deb", ["-x", deb, join(tmp, "root")]);
    await mkdir(join(CACHE, `busybox-static-${arch}`, "bin"), { recursive: true });
    await rename(join(tmp, "root", "bin", "busybox"), bin);
    return bin;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
