import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  createLayer,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type LayerEntry,
  type Manifest,
  MediaType,
  writeDockerArchive,
} from "@tsbuild/oci";
import { GoldenError } from "./describe.js";

/** SOURCE_DATE_EPOCH of every base image: mtimes and `created` are this instant, so the tars are identical on every machine. */
export const BASE_EPOCH = 1_700_000_000;
const CREATED = new Date(BASE_EPOCH * 1000).toISOString().replace(".000Z", "Z");

/** BUSYBOX is Debian's busybox-static binary, the only program in the bases. */
export const BUSYBOX = "/bin/busybox";

/**
 * BUSYBOX_SHA256 pins the busybox-static build the recordings were made with
 * (bookworm's 1:1.35.0-4+deb12u1+b1): the golden trees hold its digest, so a
 * different binary must fail loudly here rather than as a tree difference.
 */
export const BUSYBOX_SHA256 = "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6";

/** APPLETS are linked into /bin as symlinks to busybox, as the busybox image does. */
export const APPLETS = [
  "[",
  "basename",
  "cat",
  "chgrp",
  "chmod",
  "chown",
  "cp",
  "cut",
  "date",
  "dd",
  "dirname",
  "du",
  "echo",
  "env",
  "false",
  "find",
  "grep",
  "head",
  "hostname",
  "id",
  "ln",
  "ls",
  "md5sum",
  "mkdir",
  "mkfifo",
  "mknod",
  "mv",
  "printf",
  "pwd",
  "readlink",
  "realpath",
  "rm",
  "rmdir",
  "sed",
  "sh",
  "sha256sum",
  "sleep",
  "sort",
  "stat",
  "tail",
  "tar",
  "tee",
  "test",
  "touch",
  "tr",
  "true",
  "uname",
  "wc",
  "whoami",
  "xargs",
];

/** BaseImage is one image the golden cases build on. */
export interface BaseImage {
  /** name as Dockerfiles use it (`golden/busybox:1`). */
  name: string;
  /** layers, bottom first. */
  layers: LayerEntry[][];
  config: NonNullable<ImageConfig["config"]>;
  /** history created_by per layer (one per layer, no empty layers). */
  history: string[];
}

const dir = (path: string, mode = 0o755, uid = 0, gid = 0): LayerEntry => ({
  path,
  type: "dir",
  mode,
  uid,
  gid,
});
const file = (path: string, content: string | Uint8Array, mode = 0o644, uid = 0, gid = 0): LayerEntry => ({
  path,
  type: "file",
  mode,
  uid,
  gid,
  content,
});
const symlink = (path: string, linkname: string): LayerEntry => ({
  path,
  type: "symlink",
  mode: 0o777,
  linkname,
});
const whiteout = (path: string): LayerEntry => file(path, "", 0o644);

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "app:x:1000:1000:app:/home/app:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");
const GROUP = ["root:x:0:", "daemon:x:1:", "staff:x:50:app", "app:x:1000:", "nogroup:x:65534:", ""].join(
  "\n",
);

/** busyboxLayer is the root filesystem of golden/busybox:1. */
export function busyboxLayer(busybox: Uint8Array): LayerEntry[] {
  return [
    dir("bin"),
    file("bin/busybox", busybox, 0o755),
    ...APPLETS.map((a) => symlink(`bin/${a}`, "busybox")),
    dir("data", 0o2775, 1000, 50),
    file("data/readme.txt", "shared data\n", 0o664, 1000, 50),
    dir("etc"),
    file("etc/group", GROUP),
    file("etc/hostname", "golden\n"),
    file("etc/passwd", PASSWD),
    file("etc/shadow", "root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n", 0o640, 0, 42),
    dir("home"),
    dir("home/app", 0o750, 1000, 1000),
    file("home/app/.profile", "export PS1='$ '\n", 0o644, 1000, 1000),
    dir("opt"),
    dir("root", 0o700),
    dir("run"),
    dir("srv", 0o711),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("usr/local"),
    dir("usr/local/bin"),
    file("usr/local/bin/greet", "#!/bin/sh\necho hello from greet\n", 0o755),
    file("usr/local/bin/setuid-tool", "#!/bin/sh\nid\n", 0o4755),
    file("usr/local/bin/tool.conf", "level=1\n"),
    dir("usr/share"),
    dir("usr/share/doc"),
    file("usr/share/doc/notes.txt", "base notes\n"),
    dir("var"),
    dir("var/lib"),
    dir("var/log", 0o775, 0, 4),
    symlink("var/run", "/run"),
    dir("var/tmp", 0o1777),
  ];
}

const ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

/** goldenBases lists every base image; `busybox` is the binary's bytes. */
export function goldenBases(busybox: Uint8Array): BaseImage[] {
  const root = busyboxLayer(busybox);
  return [
    {
      name: "golden/busybox:1",
      layers: [root],
      config: { Env: ENV, Cmd: ["sh"] },
      history: ["golden base: busybox-static, passwd, group, /tmp, /home/app, /var/run -> /run"],
    },
    {
      name: "golden/onbuild:1",
      layers: [root],
      config: {
        Env: ENV,
        Cmd: ["sh"],
        WorkingDir: "/",
        OnBuild: [
          "ENV FROM_ONBUILD=yes",
          "LABEL onbuild.trigger=fired",
          "COPY trigger.txt /onbuild/",
          "WORKDIR /onbuild/work",
        ],
      },
      history: ["golden base: busybox root with ONBUILD triggers"],
    },
    {
      name: "golden/whiteouts:1",
      layers: [
        root,
        [
          dir("opt/tree"),
          file("opt/tree/a", "a\n"),
          file("opt/tree/b", "b\n"),
          dir("opt/tree/sub"),
          file("opt/tree/sub/c", "c\n"),
          dir("opt/tree/sub/deep"),
          file("opt/tree/sub/deep/d", "d\n"),
          dir("opt/gone"),
          file("opt/gone/x", "x\n"),
          file("opt/keep", "keep\n"),
          file("usr/local/bin/old-tool", "#!/bin/sh\necho old\n", 0o755),
        ],
        [
          dir("opt"),
          dir("opt/tree"),
          whiteout("opt/tree/.wh.a"),
          dir("opt/tree/sub"),
          whiteout("opt/tree/sub/.wh..wh..opq"),
          file("opt/tree/sub/e", "e\n"),
          whiteout("opt/.wh.gone"),
          dir("usr"),
          dir("usr/local"),
          dir("usr/local/bin"),
          whiteout("usr/local/bin/.wh.old-tool"),
        ],
      ],
      config: { Env: ENV, Cmd: ["sh"] },
      history: [
        "golden base: busybox root",
        "golden base: /opt/tree, /opt/gone, /opt/keep, old-tool",
        "golden base: delete /opt/tree/a, /opt/gone, old-tool; /opt/tree/sub opaque with e",
      ],
    },
  ];
}

/** readBusybox reads the host's busybox-static and checks it is the build the recordings pinned. */
export function readBusybox(path = BUSYBOX): Buffer {
  const bytes = readFileSync(path);
  const got = createHash("sha256").update(bytes).digest("hex");
  if (got !== BUSYBOX_SHA256) {
    throw new GoldenError(
      "BASE_CHANGED",
      `${path} has sha256 ${got}, the golden recordings were made with ${BUSYBOX_SHA256}: re-record them (scripts/record-golden.sh)`,
    );
  }
  return bytes;
}

/** archiveName is the file a base is written to: `golden/busybox:1` → `golden-busybox-1.tar`. */
export function archiveName(name: string): string {
  return `${name.replace(/[/:]/g, "-")}.tar`;
}

/**
 * writeBase writes one base as a docker archive (loadable by `docker load`
 * and `tsbuild load`). The same entries give the same bytes: layers are
 * gzip with fixed parameters and mtimes clamped to BASE_EPOCH.
 */
export async function writeBase(outDir: string, base: BaseImage): Promise<string> {
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  const blobs = new Map<string, Buffer>();
  for (const entries of base.layers) {
    const stamped = entries.map((e) => ({ ...e, mtime: BASE_EPOCH }));
    const { stream, result } = createLayer({ entries: stamped }, { sourceDateEpoch: BASE_EPOCH });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const r = await result;
    blobs.set(r.digest, Buffer.concat(chunks));
    layers.push({ mediaType: MediaType.OciLayerGzip, digest: r.digest, size: r.size });
    diffIds.push(r.diffId);
  }
  const config: ImageConfig = {
    created: CREATED,
    architecture: "amd64",
    os: "linux",
    config: base.config,
    rootfs: { type: "layers", diff_ids: diffIds },
    history: base.history.map((h) => ({ created: CREATED, created_by: h })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {
      mediaType: MediaType.OciConfig,
      digest: `sha256:${createHash("sha256").update(configBytes).digest("hex")}` as Digest,
      size: configBytes.length,
    },
    layers,
  };
  await mkdir(outDir, { recursive: true });
  const dest = join(outDir, archiveName(base.name));
  await writeDockerArchive(dest, [
    {
      names: [`docker.io/${base.name}`],
      manifest: JSON.stringify(manifest),
      config: configBytes,
      blob: (d) => Readable.from([blobs.get(d)!]),
    },
  ]);
  return dest;
}

/** writeBases writes every base into `outDir` and returns name → file. */
export async function writeBases(outDir: string, busybox = readBusybox()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of goldenBases(busybox)) out.set(b.name, await writeBase(outDir, b));
  return out;
}
