/**
 * OciErrorCode names every way reading or writing OCI data can fail, so callers
 * branch on `code`, never on message text.
 */
export type OciErrorCode =
  | "INVALID_DIGEST"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "INVALID_JSON"
  | "INVALID_MEDIA_TYPE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "INVALID_MANIFEST"
  | "INVALID_INDEX"
  | "INVALID_CONFIG"
  | "INVALID_DESCRIPTOR"
  | "INVALID_PLATFORM"
  | "INVALID_LAYOUT"
  | "BLOB_NOT_FOUND"
  | "INVALID_TAR"
  | "UNSAFE_TAR_ENTRY"
  | "INVALID_ARCHIVE"
  | "IMAGE_NOT_FOUND"
  | "INVALID_REFERENCE"
  | "IMAGE_IN_USE"
  | "AMBIGUOUS_REFERENCE"
  | "LOCK_TIMEOUT"
  | "NO_SPACE"
  | "READ_ONLY"
  | "FILE_ERROR";

/** OciError is the one error class of @tsbuild/oci. `where` locates the problem (a JSON path, a file, a tar entry). */
export class OciError extends Error {
  override readonly name = "OciError";
  readonly code: OciErrorCode;
  readonly where: string | undefined;

  constructor(code: OciErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.code = code;
    this.where = options.where;
  }
}

export function isOciError(err: unknown, code?: OciErrorCode): err is OciError {
  return err instanceof OciError && (code === undefined || err.code === code);
}

/**
 * locateError puts the file or blob an error came from in front of its
 * location (`store manifest sha256:…: layers[0].digest: …`), keeping its code,
 * so a parser's JSON path also says which document it is in.
 */
export function locateError(err: unknown, where: string): unknown {
  return err instanceof OciError ? new OciError(err.code, err.message, { where, cause: err }) : err;
}
