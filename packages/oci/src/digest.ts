import { createHash } from "node:crypto";
import { OciError } from "./errors.js";

/** Digest is a validated `algorithm:hex` string, e.g. `sha256:e3b0…`. */
export type Digest = string & { readonly __digest: unique symbol };

export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/**
 * chainIds gives each layer's chain ID (the OCI spec's ChainID, docker's layer
 * ID): the first is its diffID, each next one sha256 of "<previous> <diffID>".
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : digestOf(`${out.at(-1)} ${d}`));
  return out;
}

/** parseDigest validates `s` as a digest and returns it typed; `where` goes into the error. */
export function parseDigest(s: unknown, where?: string): Digest {
  if (typeof s !== "string") {
    throw new OciError("INVALID_DIGEST", `digest must be a string, got ${typeof s}`, { where });
  }
  const colon = s.indexOf(":");
  const alg = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (colon < 0 || !(alg in HEX_LENGTH)) {
    throw new OciError("INVALID_DIGEST", `unsupported or missing digest algorithm in ${JSON.stringify(s)}`, {
      where,
    });
  }
  const len = HEX_LENGTH[alg as DigestAlgorithm];
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) {
    throw new OciError(
      "INVALID_DIGEST",
      `${alg} digest needs ${len} lowercase hex characters: ${JSON.stringify(s)}`,
      {
        where,
      },
    );
  }
  return s as Digest;
}

export function isDigest(s: unknown): s is Digest {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(":")) as DigestAlgorithm;
}

export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

/** digestOf hashes bytes (a string is hashed as UTF-8). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}` as Digest;
}

/** digestOfStream hashes an async iterable of chunks, returning the digest and byte count. */
export async function digestOfStream(
  source: AsyncIterable<Uint8Array>,
  algorithm: DigestAlgorithm = "sha256",
): Promise<{ digest: Digest; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `${algorithm}:${hash.digest("hex")}` as Digest, size };
}

/** verifyDigest throws DIGEST_MISMATCH / SIZE_MISMATCH when `actual` differs from `expected`. */
export function verifyDigest(
  expected: { digest: Digest; size?: number },
  actual: { digest: Digest; size: number },
  where?: string,
): void {
  if (expected.size !== undefined && expected.size !== actual.size) {
    throw new OciError("SIZE_MISMATCH", `expected ${expected.size} bytes, got ${actual.size}`, { where });
  }
  if (expected.digest !== actual.digest) {
    throw new OciError("DIGEST_MISMATCH", `expected ${expected.digest}, got ${actual.digest}`, { where });
  }
}
