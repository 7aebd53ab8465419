import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  createLayer,
  type Digest,
  type ImageStore,
  type LayerEntry,
  MediaType,
  readLayerEntries,
  type StoredImage,
} from "@tsbuild/oci";

/** BUSYBOX is Debian's busybox-static binary, the base of test images. */
export const BUSYBOX = "/bin/busybox";

/**
 * addBaseImage stores a small busybox image (`/bin/busybox` with sh/cat/ls/echo links, passwd and group
 * with root, `app` 1000:1000 and group `staff` 50, /tmp 1777, /home/app owned by app) under `name`.
 */
export async function addBaseImage(
  store: ImageStore,
  name: string,
  extra: LayerEntry[] = [],
): Promise<StoredImage> {
  const entries: LayerEntry[] = [
    { path: "bin", type: "dir", mode: 0o755 },
    { path: "bin/busybox", type: "file", mode: 0o755, content: readFileSync(BUSYBOX) },
    ...["sh", "cat", "ls", "echo", "id"].map(
      (a): LayerEntry => ({ path: `bin/${a}`, type: "symlink", linkname: "busybox" }),
    ),
    { path: "etc", type: "dir", mode: 0o755 },
    {
      path: "etc/passwd",
      type: "file",
      mode: 0o644,
      content: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    },
    { path: "etc/group", type: "file", mode: 0o644, content: "root:x:0:\nstaff:x:50:\napp:x:1000:\n" },
    { path: "home", type: "dir", mode: 0o755 },
    { path: "home/app", type: "dir", mode: 0o750, uid: 1000, gid: 1000 },
    { path: "tmp", type: "dir", mode: 0o1777 },
    { path: "run", type: "dir", mode: 0o755 },
    { path: "var", type: "dir", mode: 0o755 },
    { path: "var/run", type: "symlink", linkname: "../run" },
    ...extra,
  ];
  const made = createLayer({ entries }, { sourceDateEpoch: 1_700_000_000 });
  const lease = await store.lease();
  try {
    const blob = await store.writeBlob(made.stream, undefined, { lease });
    const result = await made.result;
    const config = {
      architecture: "amd64",
      os: "linux",
      created: "2023-11-14T22:13:20Z",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers" as const, diff_ids: [result.diffId] },
      history: [{ created: "2023-11-14T22:13:20Z", created_by: "test base" }],
    };
    const cfgBytes = Buffer.from(JSON.stringify(config));
    const cfg = await store.writeBlob(cfgBytes, undefined, { lease });
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: cfg.digest, size: cfg.size },
      layers: [{ mediaType: MediaType.DockerLayerGzip, digest: blob.digest, size: blob.size }],
    };
    return await store.addImage({ manifest, names: [name] });
  } finally {
    await lease.release();
  }
}

/** writeTree writes files (string content) and symlinks (`{ link }`) under a new temp dir. */
export async function writeTree(files: Record<string, string | { link: string }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-ctx-"));
  for (const [name, v] of Object.entries(files)) {
    const p = join(dir, name);
    await mkdir(dirname(p), { recursive: true });
    if (typeof v === "string") await writeFile(p, v);
    else await symlink(v.link, p);
  }
  return dir;
}

/** layerEntries lists a stored layer's entries (path, type, mode, owner, link, content digest). */
export async function layerEntries(store: ImageStore, digest: Digest) {
  const all = await readLayerEntries(store.layout.openBlob(digest));
  return all.map((e) => ({
    path: e.name.replace(/\/$/, ""),
    type: e.type,
    mode: e.mode.toString(8),
    uid: e.uid,
    gid: e.gid,
    ...(e.linkname ? { linkname: e.linkname } : {}),
    ...(e.type === "file" ? { size: e.size } : {}),
  }));
}
