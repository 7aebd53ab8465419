import { describe, expect, it } from "vitest";
import {
  isForeignLayer,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  layerCompression,
  MediaType,
} from "./media-types.js";

describe("media types", () => {
  it.each([
    [MediaType.OciLayer, "none", false],
    [MediaType.OciLayerGzip, "gzip", false],
    [MediaType.OciLayerZstd, "zstd", false],
    [MediaType.OciLayerNondistributable, "none", true],
    [MediaType.OciLayerNondistributableGzip, "gzip", true],
    [MediaType.OciLayerNondistributableZstd, "zstd", true],
    [MediaType.DockerLayer, "none", false],
    [MediaType.DockerLayerGzip, "gzip", false],
    [MediaType.DockerForeignLayerGzip, "gzip", true],
    [MediaType.OciConfig, undefined, false],
    [MediaType.OciManifest, undefined, false],
    ["application/octet-stream", undefined, false],
  ])("%s: compression %s, foreign %s", (mt, compression, foreign) => {
    expect(layerCompression(mt)).toBe(compression);
    expect(isForeignLayer(mt)).toBe(foreign);
  });

  it("tells manifests, indexes and schema1 apart", () => {
    const kinds = (mt: string) => [isManifestMediaType(mt), isIndexMediaType(mt), isSchema1MediaType(mt)];
    expect(kinds(MediaType.OciManifest)).toEqual([true, false, false]);
    expect(kinds(MediaType.DockerManifest)).toEqual([true, false, false]);
    expect(kinds(MediaType.OciIndex)).toEqual([false, true, false]);
    expect(kinds(MediaType.DockerManifestList)).toEqual([false, true, false]);
    expect(kinds(MediaType.DockerSchema1Manifest)).toEqual([false, false, true]);
    expect(kinds(MediaType.DockerSchema1SignedManifest)).toEqual([false, false, true]);
    expect(kinds(MediaType.OciConfig)).toEqual([false, false, false]);
  });
});
