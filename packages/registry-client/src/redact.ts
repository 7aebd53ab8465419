/**
 * redact scrubs secrets from everything the registry client formats for a
 * human: URLs (token-like query parameters, user info), headers
 * (Authorization and friends) and free text (Bearer/Basic credentials and any
 * secret value the client has seen). Every error message and debug line goes
 * through here, so a password or token never reaches a terminal or a CI log.
 */

/** REDACTED replaces every secret we scrub. */
export const REDACTED = "REDACTED";

const SECRET_PARAM =
  /^(?:.*token.*|.*secret.*|.*passw(?:or)?d.*|.*signature.*|sig|.*credential.*|x-amz-security-token|code|key|api[-_]?key|access[-_]?key.*|auth|authorization|_state)$/i;
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-registry-auth",
  "x-amz-security-token",
]);

const knownSecrets = new Set<string>();
const MAX_KNOWN_SECRETS = 512;

/**
 * registerSecret remembers a password or token so redactText removes it even
 * when a server echoes it somewhere unexpected (an error body, a Location).
 * Values shorter than 4 characters are ignored: scrubbing them would mangle
 * ordinary text and they protect nothing.
 */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 4) return;
  if (knownSecrets.size >= MAX_KNOWN_SECRETS) {
    const oldest = knownSecrets.values().next().value;
    if (oldest !== undefined) knownSecrets.delete(oldest);
  }
  knownSecrets.add(secret);
  // The Basic form of a secret is what would appear on the wire.
  if (secret.includes(":")) knownSecrets.add(Buffer.from(secret).toString("base64"));
}

/** isSecretParam says whether a query parameter name looks like it carries a credential. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/**
 * redactUrl formats a URL with user info and token-like query values replaced.
 * Unparseable input is treated as text.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return redactText(String(url));
  }
  if (u.username || u.password) {
    u.username = REDACTED;
    u.password = "";
  }
  const names = [...new Set(u.searchParams.keys())];
  for (const name of names) {
    if (isSecretParam(name)) u.searchParams.set(name, REDACTED);
  }
  return redactText(u.toString());
}

/** redactHeaders returns a copy of headers safe to print. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (SECRET_HEADERS.has(k.toLowerCase())) out[k] = REDACTED;
    else if (k.toLowerCase() === "location" && typeof v === "string") out[k] = redactUrl(v);
    else out[k] = v;
  }
  return out;
}

/**
 * redactText scrubs credentials from free text: `Bearer x`/`Basic x`
 * values, `token=`/`password=`-style pairs, JSON token fields, URL user info
 * and every secret registered with registerSecret.
 */
export function redactText(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`);
  out = out.replace(
    /"((?:access_|refresh_|identity|registry)?token|password|secret|identitytoken|auth)"\s*:\s*"[^"]*"/gi,
    `"$1":"${REDACTED}"`,
  );
  out = out.replace(
    /([?&](?:[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|signature|credential)[A-Za-z0-9_.-]*|sig|_state)=)[^&\s"'#]*/gi,
    `$1${REDACTED}`,
  );
  out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]*@/gi, `$1${REDACTED}@`);
  return out;
}
