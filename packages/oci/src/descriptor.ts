import type { OciErrorCode } from "./errors.js";
import {
  expectObject,
  fail,
  isMediaTypeSyntax,
  optionalInteger,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  requireDigest,
  requireString,
} from "./json-check.js";
import { parsePlatformObject } from "./platform.js";
import type { Descriptor } from "./types.js";

/**
 * parseDescriptor validates one descriptor (a parsed JSON value) at JSON path
 * `where`: a media type of the form type/subtype, a valid digest, a
 * non-negative integer size, and well-typed optional fields. Unknown members
 * are dropped, so what comes back is exactly the typed Descriptor.
 */
export function parseDescriptor(
  v: unknown,
  where = "descriptor",
  code: OciErrorCode = "INVALID_DESCRIPTOR",
): Descriptor {
  const obj = expectObject(v, where, code);
  const mediaType = requireString(obj, "mediaType", where, code);
  if (!isMediaTypeSyntax(mediaType)) {
    fail(
      "INVALID_MEDIA_TYPE",
      `${where}.mediaType`,
      `${JSON.stringify(mediaType)} is not a media type (type/subtype)`,
    );
  }
  const digest = requireDigest(obj, "digest", where);
  if (obj.size === undefined) fail(code, `${where}.size`, "required field is missing");
  const size = optionalInteger(obj, "size", where, code, 0)!;
  const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest, size };
  const urls = optionalStringArray(obj, "urls", where, code);
  if (urls) out.urls = urls;
  const annotations = optionalStringMap(obj, "annotations", where, code);
  if (annotations) out.annotations = annotations;
  if (obj.platform !== undefined) out.platform = parsePlatformObject(obj.platform, `${where}.platform`, code);
  const artifactType = optionalString(obj, "artifactType", where, code);
  if (artifactType !== undefined) out.artifactType = artifactType;
  const data = optionalString(obj, "data", where, code);
  if (data !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
      fail(code, `${where}.data`, "expected base64 data");
    }
    if (Buffer.from(data, "base64").length !== size) {
      fail(
        code,
        `${where}.data`,
        `embedded data is ${Buffer.from(data, "base64").length} bytes, size says ${size}`,
      );
    }
    out.data = data;
  }
  return out;
}
