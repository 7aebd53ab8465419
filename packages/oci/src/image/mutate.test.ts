import { describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { type Digest, digestOf } from "../digest.js";
import { isOciError } from "../errors.js";
import { MediaType } from "../media-types.js";
import { type Image, imageFromParts, type Layer } from "./image.js";
import { append, emptyImage, mutateConfig } from "./mutate.js";

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

/** baseImage is an image whose blobs cannot be read: anything that reads one fails the test. */
function baseImage(docker = false): Image {
  const config = {
    architecture: "amd64",
    os: "linux",
    created: "2026-01-01T00:00:00Z",
    // A member the typed model does not know: kept through every change.
    docker_version: "27.0.0",
    config: { Env: ["PATH=/bin"], Cmd: ["sh"], Labels: { a: "1" }, WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [d("1")] },
    history: [{ created: "2026-01-01T00:00:00Z", created_by: "base" }],
  };
  const rawConfig = canonicalJson(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: {
      mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: digestOf(rawConfig),
      size: rawConfig.length,
    },
    layers: [
      {
        mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
        digest: d("a"),
        size: 10,
        annotations: { keep: "me" },
      },
    ],
    annotations: { "org.example": "kept" },
  };
  return imageFromParts({
    rawManifest: canonicalJson(manifest),
    rawConfig,
    open: () => {
      throw new Error("a blob was read");
    },
  });
}

function fakeLayer(c: string, mediaType: string = MediaType.OciLayerGzip): Layer {
  const fail = async () => {
    throw new Error("a new layer was read");
  };
  return {
    digest: d(c),
    diffId: d(c.toUpperCase() === c ? "f" : "e"),
    size: 5,
    mediaType,
    compressed: fail,
    uncompressed: fail,
  };
}

const json = (b: Buffer) => JSON.parse(b.toString("utf8"));

/** consistent checks an image's digests and descriptors against its bytes. */
function expectConsistent(image: Image): void {
  expect(image.digest).toBe(digestOf(image.rawManifest));
  expect(image.configDigest).toBe(digestOf(image.rawConfig));
  expect(image.manifest.config).toMatchObject({ digest: image.configDigest, size: image.rawConfig.length });
  expect(image.manifest.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));
  expect(image.config.rootfs.diff_ids).toHaveLength(image.layers.length);
}

describe("mutateConfig", () => {
  it("changes the fields given and nothing else: the rest of the config, the manifest and the layers are kept", () => {
    const base = baseImage();
    const next = mutateConfig(base, {
      Entrypoint: ["/app"],
      Env: ["PATH=/bin", "MODE=prod"],
      Labels: { a: "2", b: "3" },
      User: "1000:1000",
      WorkingDir: "/srv",
      ExposedPorts: { "8080/tcp": {} },
      Cmd: undefined,
    });
    expectConsistent(next);
    const before = json(base.rawConfig);
    const after = json(next.rawConfig);
    expect(after).toEqual({
      ...before,
      config: {
        Entrypoint: ["/app"],
        Env: ["PATH=/bin", "MODE=prod"],
        Labels: { a: "2", b: "3" },
        User: "1000:1000",
        WorkingDir: "/srv",
        ExposedPorts: { "8080/tcp": {} },
      },
    });
    expect(after.docker_version).toBe("27.0.0");
    const m = json(next.rawManifest);
    const { config: _c1, ...restAfter } = m;
    const { config: _c2, ...restBefore } = json(base.rawManifest);
    expect(restAfter).toEqual(restBefore);
    expect(m.config.mediaType).toBe(MediaType.OciConfig);
    expect(next.configDigest).not.toBe(base.configDigest);
    expect(next.layers).toBe(base.layers);
    // The base is untouched.
    expect(base.config.config?.Cmd).toEqual(["sh"]);
  });

  it("a function changes the whole config from a copy; changing diff_ids is refused", () => {
    const base = baseImage();
    const next = mutateConfig(base, (c) => ({ ...c, author: "me", os: "linux" }));
    expectConsistent(next);
    expect(json(next.rawConfig)).toEqual({ ...json(base.rawConfig), author: "me" });
    let err: unknown;
    try {
      mutateConfig(base, (c) => ({ ...c, rootfs: { type: "layers", diff_ids: [] } }));
    } catch (e) {
      err = e;
    }
    expect(isOciError(err, "INVALID_CONFIG")).toBe(true);
  });

  it("an invalid result is refused by the config parser", () => {
    expect(() => mutateConfig(baseImage(), { Env: "PATH=/" as unknown as string[] })).toThrow(/Env/);
  });
});

describe("append", () => {
  it("adds diffIDs, history and descriptors, reading no layer; a Docker manifest gets Docker layer media types", () => {
    const base = baseImage(true);
    const next = append(base, fakeLayer("b"), {
      layer: fakeLayer("c", MediaType.OciLayer),
      history: { created_by: "mine" },
      annotations: { x: "y" },
    });
    expectConsistent(next);
    expect(next.mediaType).toBe(MediaType.DockerManifest);
    expect(next.manifest.layers).toEqual([
      { mediaType: MediaType.DockerLayerGzip, digest: d("a"), size: 10, annotations: { keep: "me" } },
      { mediaType: MediaType.DockerLayerGzip, digest: d("b"), size: 5 },
      { mediaType: MediaType.DockerLayer, digest: d("c"), size: 5, annotations: { x: "y" } },
    ]);
    expect(next.config.rootfs.diff_ids).toEqual([d("1"), d("e"), d("e")]);
    expect(next.config.history?.map((h) => h.created_by)).toEqual(["base", "tsbuild append", "mine"]);
    expect(json(next.rawConfig).docker_version).toBe("27.0.0");
    expect(json(next.rawManifest).annotations).toEqual({ "org.example": "kept" });
    expect(next.layers[0]).toBe(base.layers[0]);
  });

  it("history is dated SOURCE_DATE_EPOCH when set", () => {
    const old = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = "1700000000";
    try {
      const a = append(baseImage(), fakeLayer("b"));
      expect(a.config.history?.[1]?.created).toBe("2023-11-14T22:13:20Z");
      expect(append(baseImage(), fakeLayer("b")).digest).toBe(a.digest);
      process.env.SOURCE_DATE_EPOCH = "soon";
      expect(() => append(baseImage(), fakeLayer("b"))).toThrow(/SOURCE_DATE_EPOCH/);
    } finally {
      if (old === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = old;
    }
  });

  it("onto emptyImage: an image of just the new layers", () => {
    const empty = emptyImage({ platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    expectConsistent(empty);
    expect(empty.config).toMatchObject({ os: "linux", architecture: "arm64", variant: "v8" });
    const next = append(empty, fakeLayer("b"));
    expectConsistent(next);
    expect(next.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip]);
    expect(emptyImage({ docker: true }).mediaType).toBe(MediaType.DockerManifest);
  });
});
