/** shortId is docker's 12-character image id (the digest's hex, truncated): `sha256:0123…` → `0123456789ab`. */
export function shortId(digest: string): string {
  const hex = digest.includes(":") ? digest.slice(digest.indexOf(":") + 1) : digest;
  return hex.slice(0, 12);
}

/** imageIdCell is the IMAGE ID cell: 12 hex chars, or the full `sha256:…` with --no-trunc. */
export function imageIdCell(digest: string, noTrunc: boolean): string {
  return noTrunc ? digest : shortId(digest);
}
