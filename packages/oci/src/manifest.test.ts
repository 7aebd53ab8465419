import { describe, expect, it } from "vitest";
import { OciError, type OciErrorCode } from "./errors.js";
import { parseIndex, parseManifest, parseManifestOrIndex } from "./manifest.js";
import { MediaType } from "./media-types.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const config = { mediaType: MediaType.OciConfig, digest: D("c"), size: 100 };
const layer = (c: string) => ({ mediaType: MediaType.OciLayerGzip, digest: D(c), size: 10 });
const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config,
  layers: [layer("a"), layer("b")],
};
const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { ...config, mediaType: MediaType.DockerConfig },
  layers: [{ ...layer("a"), mediaType: MediaType.DockerLayerGzip }],
};
const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    {
      mediaType: MediaType.OciManifest,
      digest: D("d"),
      size: 500,
      platform: { os: "linux", architecture: "amd64" },
    },
  ],
  annotations: { a: "b" },
};
const dockerList = { ...ociIndex, mediaType: MediaType.DockerManifestList };
const j = (v: unknown) => Buffer.from(JSON.stringify(v));

function expectError(fn: () => unknown, code: OciErrorCode, message: string | RegExp): void {
  try {
    fn();
    expect.unreachable("expected an error");
  } catch (err) {
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe(code);
    if (typeof message === "string") expect((err as Error).message).toContain(message);
    else expect((err as Error).message).toMatch(message);
  }
}

describe("parseManifest", () => {
  it.each([
    ["OCI", ociManifest],
    ["Docker schema2", dockerManifest],
  ])("reads a %s manifest", (_n, m) => {
    expect(parseManifest(j(m))).toEqual(m);
  });

  it("reads a manifest without mediaType (OCI allows it) and keeps subject/annotations/artifactType", () => {
    const { mediaType: _, ...bare } = ociManifest;
    const m = { ...bare, subject: layer("e"), annotations: { k: "v" }, artifactType: "application/x" };
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
  });

  it("accepts a matching Content-Type with parameters", () => {
    expect(parseManifest(j(ociManifest), `${MediaType.OciManifest}; charset=utf-8`).layers).toHaveLength(2);
  });

  const bad: [string, unknown, OciErrorCode, string | RegExp][] = [
    ["an array", [], "INVALID_MANIFEST", "manifest: expected an object, got an array"],
    [
      "schemaVersion 3",
      { ...ociManifest, schemaVersion: 3 },
      "INVALID_MANIFEST",
      "manifest.schemaVersion: expected 2, got a number (3)",
    ],
    [
      "no schemaVersion",
      { ...ociManifest, schemaVersion: undefined },
      "INVALID_MANIFEST",
      "manifest.schemaVersion: required field is missing",
    ],
    [
      "index mediaType",
      { ...ociManifest, mediaType: MediaType.OciIndex },
      "INVALID_MEDIA_TYPE",
      "is an image index, not a manifest",
    ],
    [
      "unknown mediaType",
      { ...ociManifest, mediaType: "application/vnd.foo+json" },
      "UNSUPPORTED_MEDIA_TYPE",
      'manifest.mediaType: unknown manifest media type "application/vnd.foo+json"',
    ],
    [
      "malformed mediaType",
      { ...ociManifest, mediaType: "garbage" },
      "INVALID_MEDIA_TYPE",
      'manifest.mediaType: "garbage" is not a media type',
    ],
    [
      "numeric mediaType",
      { ...ociManifest, mediaType: 5 },
      "INVALID_MANIFEST",
      "manifest.mediaType: expected a string",
    ],
    [
      "no config",
      { ...ociManifest, config: undefined },
      "INVALID_MANIFEST",
      "manifest.config: required field is missing",
    ],
    [
      "no layers",
      { ...ociManifest, layers: undefined },
      "INVALID_MANIFEST",
      "manifest.layers: required field is missing",
    ],
    [
      "layers not array",
      { ...ociManifest, layers: {} },
      "INVALID_MANIFEST",
      "manifest.layers: expected an array, got an object",
    ],
    [
      "bad layer digest",
      { ...ociManifest, layers: [layer("a"), layer("b"), { ...layer("c"), digest: "sha256:abc" }] },
      "INVALID_DIGEST",
      "manifest.layers[2].digest: sha256 digest needs 64",
    ],
    [
      "negative layer size",
      { ...ociManifest, layers: [{ ...layer("a"), size: -5 }] },
      "INVALID_MANIFEST",
      "manifest.layers[0].size: must be at least 0",
    ],
    [
      "config size string",
      { ...ociManifest, config: { ...config, size: "100" } },
      "INVALID_MANIFEST",
      "manifest.config.size: expected an integer",
    ],
    [
      "looks like an index",
      { schemaVersion: 2, manifests: [] },
      "INVALID_MANIFEST",
      "this is an image index",
    ],
    [
      "bad annotations",
      { ...ociManifest, annotations: [] },
      "INVALID_MANIFEST",
      "manifest.annotations: expected an object",
    ],
  ];
  it.each(bad)("rejects %s", (_n, value, code, message) => {
    expectError(() => parseManifest(j(value)), code, message);
  });

  it("rejects malformed JSON with the position", () => {
    expectError(
      () => parseManifest('{"schemaVersion": 2,'),
      "INVALID_JSON",
      /manifest is not valid JSON: .*(position|end)/i,
    );
    expectError(() => parseManifest(""), "INVALID_JSON", "manifest is empty");
  });

  it("rejects a Content-Type that disagrees with the mediaType field", () => {
    expectError(
      () => parseManifest(j(ociManifest), MediaType.DockerManifest),
      "INVALID_MEDIA_TYPE",
      "disagrees with the Content-Type",
    );
    expectError(
      () => parseManifest(j(ociManifest), MediaType.OciIndex),
      "INVALID_MEDIA_TYPE",
      "manifest (Content-Type)",
    );
  });

  it("ignores generic Content-Types", () => {
    expect(parseManifest(j(ociManifest), "application/json").config).toEqual(config);
    expect(parseManifest(j(ociManifest), "application/octet-stream").config).toEqual(config);
  });

  it.each([
    [
      "schemaVersion 1",
      { schemaVersion: 1, name: "library/busybox", tag: "latest", fsLayers: [], history: [] },
      undefined,
    ],
    [
      "prettyjws media type",
      { schemaVersion: 2, mediaType: MediaType.DockerSchema1SignedManifest },
      undefined,
    ],
    ["Content-Type only", { name: "x" }, MediaType.DockerSchema1SignedManifest],
  ])("says schema1 is not supported (%s)", (_n, value, hint) => {
    expectError(
      () => parseManifest(j(value), hint),
      "UNSUPPORTED_MEDIA_TYPE",
      /schema1 manifests are not supported/,
    );
    expectError(() => parseManifestOrIndex(j(value), hint), "UNSUPPORTED_MEDIA_TYPE", /schema1/);
  });
});

describe("parseIndex", () => {
  it.each([
    ["OCI index", ociIndex],
    ["Docker manifest list", dockerList],
  ])("reads a %s", (_n, i) => {
    expect(parseIndex(j(i))).toEqual(i);
  });

  it.each([
    [
      "manifest media type",
      { ...ociIndex, mediaType: MediaType.OciManifest },
      "INVALID_MEDIA_TYPE",
      "is an image manifest, not an index",
    ],
    [
      "no manifests",
      { schemaVersion: 2, mediaType: MediaType.OciIndex },
      "INVALID_INDEX",
      "index.manifests: required field is missing",
    ],
    [
      "looks like a manifest",
      { schemaVersion: 2, config, layers: [] },
      "INVALID_INDEX",
      "this is an image manifest",
    ],
    [
      "bad platform",
      { ...ociIndex, manifests: [{ ...ociIndex.manifests[0], platform: { os: "linux", architecture: 64 } }] },
      "INVALID_INDEX",
      "index.manifests[0].platform.architecture: expected a string",
    ],
    [
      "bad digest",
      { ...ociIndex, manifests: [{ ...ociIndex.manifests[0], digest: "sha256:" }] },
      "INVALID_DIGEST",
      "index.manifests[0].digest",
    ],
  ] as [string, unknown, OciErrorCode, string][])("rejects %s", (_n, value, code, message) => {
    expectError(() => parseIndex(j(value)), code, message);
  });
});

describe("parseManifestOrIndex", () => {
  it.each([
    ["OCI manifest", ociManifest, undefined, "manifest", MediaType.OciManifest],
    ["Docker manifest", dockerManifest, undefined, "manifest", MediaType.DockerManifest],
    ["OCI index", ociIndex, undefined, "index", MediaType.OciIndex],
    ["Docker list", dockerList, undefined, "index", MediaType.DockerManifestList],
    [
      "bare manifest (shape)",
      { ...ociManifest, mediaType: undefined },
      undefined,
      "manifest",
      MediaType.OciManifest,
    ],
    ["bare index (shape)", { ...ociIndex, mediaType: undefined }, undefined, "index", MediaType.OciIndex],
    [
      "bare manifest + Docker Content-Type",
      { ...dockerManifest, mediaType: undefined },
      MediaType.DockerManifest,
      "manifest",
      MediaType.DockerManifest,
    ],
    [
      "bare index + list Content-Type",
      { ...ociIndex, mediaType: undefined },
      MediaType.DockerManifestList,
      "index",
      MediaType.DockerManifestList,
    ],
  ] as [string, unknown, string | undefined, string, string][])(
    "detects %s",
    (_n, value, hint, kind, mediaType) => {
      const r = parseManifestOrIndex(j(value), hint);
      expect(r.kind).toBe(kind);
      expect(r.mediaType).toBe(mediaType);
    },
  );

  it("says when it is neither", () => {
    expectError(
      () => parseManifestOrIndex(j({ schemaVersion: 2 })),
      "INVALID_MANIFEST",
      "neither an image manifest",
    );
  });

  it("rejects unknown media types", () => {
    expectError(
      () => parseManifestOrIndex(j({ ...ociManifest, mediaType: "application/vnd.docker.plugin.v1+json" })),
      "UNSUPPORTED_MEDIA_TYPE",
      "unknown manifest media type",
    );
  });

  it("validates deeply after detection", () => {
    expectError(
      () => parseManifestOrIndex(j({ ...ociIndex, manifests: [{ ...ociIndex.manifests[0], size: -1 }] })),
      "INVALID_INDEX",
      "index.manifests[0].size: must be at least 0",
    );
  });
});

describe("real-world shapes", () => {
  it("reads a Docker Hub style OCI index with attestation manifests and selects the platform", async () => {
    const { selectPlatform } = await import("./platform.js");
    const idx = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          digest: D("1"),
          size: 1022,
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: D("2"),
          size: 1022,
          platform: { architecture: "arm", os: "linux", variant: "v7" },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: D("3"),
          size: 1022,
          platform: { architecture: "arm64", os: "linux", variant: "v8" },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: D("4"),
          size: 839,
          annotations: {
            "vnd.docker.reference.digest": D("1"),
            "vnd.docker.reference.type": "attestation-manifest",
          },
          platform: { architecture: "unknown", os: "unknown" },
        },
      ],
    };
    const r = parseManifestOrIndex(j(idx), MediaType.OciIndex);
    expect(r.kind).toBe("index");
    if (r.kind !== "index") return;
    const pick = (p: string) => {
      const [os, architecture, variant] = p.split("/") as [string, string, string?];
      return selectPlatform(r.index.manifests, { os, architecture, ...(variant && { variant }) })[0]?.digest;
    };
    expect(pick("linux/amd64")).toBe(D("1"));
    expect(pick("linux/arm64")).toBe(D("3"));
    expect(pick("linux/arm/v7")).toBe(D("2"));
    expect(pick("linux/arm/v6")).toBeUndefined();
    expect(pick("linux/s390x")).toBeUndefined();
  });
});
