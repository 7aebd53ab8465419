import { parseDescriptor } from "./descriptor.js";
import { OciError } from "./errors.js";
import {
  describeJson,
  expectObject,
  fail,
  isMediaTypeSyntax,
  type JsonObject,
  optionalString,
  optionalStringMap,
  parseJsonBytes,
} from "./json-check.js";
import { isIndexMediaType, isManifestMediaType, isSchema1MediaType, MediaType } from "./media-types.js";
import type { Descriptor, Index, Manifest } from "./types.js";

/**
 * manifest: validating parsers for image manifests (OCI, Docker schema2) and
 * indexes (OCI index, Docker manifest list). Each takes the raw bytes as they
 * came from a registry or a blob file (keep those bytes: the digest is over
 * them, never over a re-serialisation) and throws OciError naming the JSON path.
 */

/** ManifestOrIndex is what parseManifestOrIndex found, with the effective media type. */
export type ManifestOrIndex =
  | { readonly kind: "manifest"; readonly mediaType: string; readonly manifest: Manifest }
  | { readonly kind: "index"; readonly mediaType: string; readonly index: Index };

/** baseMediaType strips parameters (`; charset=utf-8`) and case from a Content-Type value. */
function baseMediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const base = contentType.split(";")[0]!.trim().toLowerCase();
  return base === "" ? undefined : base;
}

function isKnownTopLevel(mt: string | undefined): boolean {
  return isManifestMediaType(mt) || isIndexMediaType(mt) || isSchema1MediaType(mt);
}

function rejectSchema1(obj: JsonObject, hint: string | undefined, where: string): void {
  const mt = typeof obj.mediaType === "string" ? obj.mediaType : undefined;
  if (isSchema1MediaType(mt) || isSchema1MediaType(hint) || obj.schemaVersion === 1 || "fsLayers" in obj) {
    throw new OciError(
      "UNSUPPORTED_MEDIA_TYPE",
      "Docker schema1 manifests are not supported (deprecated since 2017); re-push the image with a current docker or registry client to get a schema2/OCI manifest",
      { where },
    );
  }
}

function checkSchemaVersion(
  obj: JsonObject,
  where: string,
  code: "INVALID_MANIFEST" | "INVALID_INDEX",
): void {
  const v = obj.schemaVersion;
  if (v === undefined) fail(code, `${where}.schemaVersion`, "required field is missing");
  if (v !== 2) fail(code, `${where}.schemaVersion`, `expected 2, got ${describeJson(v)}`);
}

/** checkMediaType validates the `mediaType` member against the kind being parsed and the Content-Type hint. */
function checkMediaType(
  obj: JsonObject,
  hint: string | undefined,
  where: string,
  kind: "manifest" | "index",
): string {
  const code = kind === "manifest" ? "INVALID_MANIFEST" : "INVALID_INDEX";
  const field = optionalString(obj, "mediaType", where, code);
  const accepts = kind === "manifest" ? isManifestMediaType : isIndexMediaType;
  const other = kind === "manifest" ? "an image index" : "an image manifest";
  for (const [mt, from] of [
    [field, `${where}.mediaType`],
    [isKnownTopLevel(hint) ? hint : undefined, `${where} (Content-Type)`],
  ] as const) {
    if (mt === undefined || accepts(mt)) continue;
    if (isManifestMediaType(mt) || isIndexMediaType(mt)) {
      fail(
        "INVALID_MEDIA_TYPE",
        from,
        `${JSON.stringify(mt)} is ${other}, not ${kind === "manifest" ? "a manifest" : "an index"}`,
      );
    }
    if (!isMediaTypeSyntax(mt)) fail("INVALID_MEDIA_TYPE", from, `${JSON.stringify(mt)} is not a media type`);
    fail("UNSUPPORTED_MEDIA_TYPE", from, `unknown ${kind} media type ${JSON.stringify(mt)}`);
  }
  if (field !== undefined && hint !== undefined && isKnownTopLevel(hint) && field !== hint) {
    fail(
      "INVALID_MEDIA_TYPE",
      `${where}.mediaType`,
      `${JSON.stringify(field)} disagrees with the Content-Type ${JSON.stringify(hint)}`,
    );
  }
  return (
    field ??
    (isKnownTopLevel(hint) ? hint! : kind === "manifest" ? MediaType.OciManifest : MediaType.OciIndex)
  );
}

function parseDescriptorList(
  obj: JsonObject,
  key: string,
  where: string,
  code: "INVALID_MANIFEST" | "INVALID_INDEX",
): Descriptor[] {
  const v = obj[key];
  if (v === undefined) fail(code, `${where}.${key}`, "required field is missing");
  if (!Array.isArray(v)) fail(code, `${where}.${key}`, `expected an array, got ${describeJson(v)}`);
  return v.map((d, i) => parseDescriptor(d, `${where}.${key}[${i}]`, code));
}

function commonFields(obj: JsonObject, where: string, code: "INVALID_MANIFEST" | "INVALID_INDEX") {
  const out: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> } = {};
  const artifactType = optionalString(obj, "artifactType", where, code);
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (obj.subject !== undefined) out.subject = parseDescriptor(obj.subject, `${where}.subject`, code);
  const annotations = optionalStringMap(obj, "annotations", where, code);
  if (annotations) out.annotations = annotations;
  return out;
}

function manifestFromObject(obj: JsonObject, hint: string | undefined, where: string): ManifestOrIndex {
  rejectSchema1(obj, hint, where);
  if (obj.mediaType === undefined && Array.isArray(obj.manifests) && obj.layers === undefined) {
    fail("INVALID_MANIFEST", where, "this is an image index (it has `manifests`), not a manifest");
  }
  const mediaType = checkMediaType(obj, hint, where, "manifest");
  checkSchemaVersion(obj, where, "INVALID_MANIFEST");
  if (obj.config === undefined) fail("INVALID_MANIFEST", `${where}.config`, "required field is missing");
  const config = parseDescriptor(obj.config, `${where}.config`, "INVALID_MANIFEST");
  const layers = parseDescriptorList(obj, "layers", where, "INVALID_MANIFEST");
  const manifest: Manifest = {
    schemaVersion: 2,
    ...(typeof obj.mediaType === "string" ? { mediaType: obj.mediaType } : {}),
    config,
    layers,
    ...commonFields(obj, where, "INVALID_MANIFEST"),
  };
  return { kind: "manifest", mediaType, manifest };
}

function indexFromObject(obj: JsonObject, hint: string | undefined, where: string): ManifestOrIndex {
  rejectSchema1(obj, hint, where);
  if (
    obj.mediaType === undefined &&
    obj.manifests === undefined &&
    (obj.layers !== undefined || obj.config !== undefined)
  ) {
    fail("INVALID_INDEX", where, "this is an image manifest (it has `layers`/`config`), not an index");
  }
  const mediaType = checkMediaType(obj, hint, where, "index");
  checkSchemaVersion(obj, where, "INVALID_INDEX");
  const manifests = parseDescriptorList(obj, "manifests", where, "INVALID_INDEX");
  const index: Index = {
    schemaVersion: 2,
    ...(typeof obj.mediaType === "string" ? { mediaType: obj.mediaType } : {}),
    manifests,
    ...commonFields(obj, where, "INVALID_INDEX"),
  };
  return { kind: "index", mediaType, index };
}

/** parseManifest validates an image manifest (OCI or Docker schema2); `contentTypeHint` is the HTTP Content-Type if any. */
export function parseManifest(bytes: Uint8Array | string, contentTypeHint?: string): Manifest {
  const obj = expectObject(parseJsonBytes(bytes, "manifest"), "manifest", "INVALID_MANIFEST");
  const r = manifestFromObject(obj, baseMediaType(contentTypeHint), "manifest");
  if (r.kind !== "manifest") throw new Error("unreachable");
  return r.manifest;
}

/** parseIndex validates an image index (OCI index or Docker manifest list). */
export function parseIndex(bytes: Uint8Array | string, contentTypeHint?: string): Index {
  const obj = expectObject(parseJsonBytes(bytes, "index"), "index", "INVALID_INDEX");
  const r = indexFromObject(obj, baseMediaType(contentTypeHint), "index");
  if (r.kind !== "index") throw new Error("unreachable");
  return r.index;
}

/**
 * parseManifestOrIndex decides what `bytes` are — from the `mediaType` member,
 * else a known Content-Type hint, else the shape (`manifests` → index,
 * `layers`/`config` → manifest) — and validates accordingly.
 */
export function parseManifestOrIndex(bytes: Uint8Array | string, contentTypeHint?: string): ManifestOrIndex {
  const hint = baseMediaType(contentTypeHint);
  const obj = expectObject(parseJsonBytes(bytes, "manifest"), "manifest", "INVALID_MANIFEST");
  rejectSchema1(obj, hint, "manifest");
  const field = typeof obj.mediaType === "string" ? obj.mediaType : undefined;
  let kind: "manifest" | "index";
  if (isIndexMediaType(field)) kind = "index";
  else if (isManifestMediaType(field)) kind = "manifest";
  else if (field !== undefined) {
    if (!isMediaTypeSyntax(field))
      fail("INVALID_MEDIA_TYPE", "manifest.mediaType", `${JSON.stringify(field)} is not a media type`);
    fail(
      "UNSUPPORTED_MEDIA_TYPE",
      "manifest.mediaType",
      `unknown manifest media type ${JSON.stringify(field)}`,
    );
  } else if (isIndexMediaType(hint)) kind = "index";
  else if (isManifestMediaType(hint)) kind = "manifest";
  else if (obj.manifests !== undefined) kind = "index";
  else if (obj.layers !== undefined || obj.config !== undefined) kind = "manifest";
  else {
    fail(
      "INVALID_MANIFEST",
      "manifest",
      "neither an image manifest (no `config`/`layers`) nor an index (no `manifests`), and no mediaType says which",
    );
  }
  return kind === "index" ? indexFromObject(obj, hint, "index") : manifestFromObject(obj, hint, "manifest");
}
