import { type Digest, parseDigest } from "./digest.js";
import { OciError } from "./errors.js";

/**
 * The grammar of image references, as in the distribution/reference package
 * that docker uses (reference.go / regexp.go), so that names valid for docker
 * are valid here and vice versa:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] remote-name
 *   domain           := host [':' port-number]
 *   host             := domain-name | IPv4address | \[ IPv6address \]
 *   remote-name      := path-component ['/' path-component]*
 *   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator        := [_.] | __ | [-]+
 *   tag              := [\w][\w.-]{0,127}
 *   digest           := algorithm ":" hex{32,}
 */
const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = "\\[(?:[a-fA-F0-9:]+)\\]";
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = "[\\w][\\w.-]{0,127}";
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRegexp = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredNameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredTagRegexp = new RegExp(`^${tagPattern}$`);
const anchoredIdentifierRegexp = /^[a-f0-9]{64}$/;

/** NAME_TOTAL_LENGTH_MAX is the longest repository name (domain included) docker accepts. */
const NAME_TOTAL_LENGTH_MAX = 255;

/** DEFAULT_REGISTRY is the canonical domain of Docker Hub in names (not its API host). */
export const DEFAULT_REGISTRY = "docker.io";
const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const LOCALHOST = "localhost";

/** DEFAULT_TAG is the tag docker adds to a name that has neither tag nor digest. */
export const DEFAULT_TAG = "latest";

/**
 * Reference is a parsed image reference: where the image lives (`registry`),
 * which repository (`repository`, without the registry), and optionally a tag
 * and a digest. It is immutable; `with*` return new references.
 */
export class Reference {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;

  constructor(parts: { registry: string; repository: string; tag?: string; digest?: Digest }) {
    this.registry = parts.registry;
    this.repository = parts.repository;
    this.tag = parts.tag;
    this.digest = parts.digest;
  }

  /** name is the full repository name: `docker.io/library/nginx`. */
  get name(): string {
    return this.registry === "" ? this.repository : `${this.registry}/${this.repository}`;
  }

  /**
   * familiarName is the name as docker shows it: Docker Hub's domain and the
   * `library/` prefix of official images are dropped (`nginx`, `me/app`).
   */
  get familiarName(): string {
    if (this.registry !== DEFAULT_REGISTRY) return this.name;
    const rest = this.repository.slice(OFFICIAL_REPO_PREFIX.length);
    if (this.repository.startsWith(OFFICIAL_REPO_PREFIX) && !rest.includes("/")) return rest;
    return this.repository;
  }

  /** toString gives the full form `registry/repository[:tag][@digest]`. */
  toString(): string {
    return this.name + suffix(this.tag, this.digest);
  }

  /** familiarString is the short form docker prints, e.g. `nginx:latest`. */
  familiarString(): string {
    return this.familiarName + suffix(this.tag, this.digest);
  }

  withTag(tag: string): Reference {
    if (!anchoredTagRegexp.test(tag)) {
      throw invalid(`invalid tag format ${JSON.stringify(tag)}`, tag);
    }
    return new Reference({ ...this.#parts(), tag });
  }

  withDigest(digest: string): Reference {
    return new Reference({ ...this.#parts(), digest: parseReferenceDigest(digest, digest) });
  }

  /** withoutTag drops the tag (docker resolves `name:tag@digest` by digest only). */
  withoutTag(): Reference {
    return new Reference({ registry: this.registry, repository: this.repository, digest: this.digest });
  }

  /** withoutDigest drops the digest. */
  withoutDigest(): Reference {
    return new Reference({ registry: this.registry, repository: this.repository, tag: this.tag });
  }

  equals(other: Reference): boolean {
    return this.toString() === other.toString();
  }

  toJSON(): string {
    return this.toString();
  }

  #parts(): { registry: string; repository: string; tag?: string; digest?: Digest } {
    return {
      registry: this.registry,
      repository: this.repository,
      ...(this.tag !== undefined && { tag: this.tag }),
      ...(this.digest !== undefined && { digest: this.digest }),
    };
  }
}

function suffix(tag: string | undefined, digest: Digest | undefined): string {
  return (tag !== undefined ? `:${tag}` : "") + (digest !== undefined ? `@${digest}` : "");
}

function invalid(message: string, input: string, cause?: unknown): OciError {
  return new OciError("INVALID_REFERENCE", `invalid reference format: ${message}`, {
    where: JSON.stringify(input),
    cause,
  });
}

function parseReferenceDigest(d: string, input: string): Digest {
  try {
    return parseDigest(d);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err), input, err);
  }
}

/**
 * parseStrictReference parses `s` exactly as the grammar says, without docker's
 * normalisation: `nginx` stays a bare repository with an empty registry. It is
 * distribution's `reference.Parse`; most callers want {@link parseReference}.
 */
export function parseStrictReference(s: string): Reference {
  const m = referenceRegexp.exec(s);
  if (m === null) {
    if (s === "") throw invalid("repository name must have at least one component", s);
    if (referenceRegexp.test(s.toLowerCase())) throw invalid("repository name must be lowercase", s);
    throw invalid(diagnose(s), s);
  }
  const name = m[1] ?? "";
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`, s);
  }
  const parts = anchoredNameRegexp.exec(name);
  const registry = parts?.[1] ?? "";
  const repository = parts?.[2] ?? name;
  const tag = m[2];
  const digest = m[3] !== undefined ? parseReferenceDigest(m[3], s) : undefined;
  return new Reference({
    registry,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  });
}

const anchoredDigestRegexp = new RegExp(`^${digestPattern}$`);

/** diagnose says which part of a reference that does not match the grammar is wrong. */
function diagnose(s: string): string {
  const at = s.indexOf("@");
  const nameAndTag = at < 0 ? s : s.slice(0, at);
  const digest = at < 0 ? undefined : s.slice(at + 1);
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  const generic = "expected [registry/]repository[:tag][@digest]";
  if (name === "") return `missing repository name; ${generic}`;
  if (!anchoredNameRegexp.test(name)) {
    return `invalid repository name ${JSON.stringify(name)}: path components are lowercase letters and digits, separated by '.', '_', '__' or '-', joined by '/'`;
  }
  if (tag !== undefined && !anchoredTagRegexp.test(tag)) {
    return `invalid tag ${JSON.stringify(tag)}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`;
  }
  if (digest !== undefined && !anchoredDigestRegexp.test(digest)) {
    return `invalid digest ${JSON.stringify(digest)}: expected algorithm:hex`;
  }
  return generic;
}

/** splitDockerDomain decides whether the first path component names a registry, as docker does. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  if (slash < 0) return { domain: DEFAULT_REGISTRY, remainder: OFFICIAL_REPO_PREFIX + name };
  const first = name.slice(0, slash);
  let domain: string;
  let remainder = name.slice(slash + 1);
  if (first === LEGACY_DEFAULT_REGISTRY) domain = DEFAULT_REGISTRY;
  else if (first === LOCALHOST || /[.:]/.test(first) || first.toLowerCase() !== first) domain = first;
  else return { domain: DEFAULT_REGISTRY, remainder: name };
  if (domain === DEFAULT_REGISTRY && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

export interface ParseReferenceOptions {
  /** defaultTag adds `:latest` when the reference has neither tag nor digest (default true, as `docker pull`). */
  readonly defaultTag?: boolean;
}

/**
 * parseReference parses and normalises a reference the way the docker CLI does
 * (distribution's `ParseNormalizedNamed` + `TagNameOnly`): `nginx` becomes
 * `docker.io/library/nginx:latest`, `me/app` becomes `docker.io/me/app:latest`,
 * and a first component with `.` or `:` or equal to `localhost` is a registry.
 * Throws OciError INVALID_REFERENCE with the reason.
 */
export function parseReference(s: string, options: ParseReferenceOptions = {}): Reference {
  if (typeof s !== "string") throw invalid(`expected a string, got ${typeof s}`, String(s));
  if (s === "") throw invalid("repository name must have at least one component", s);
  if (anchoredIdentifierRegexp.test(s)) {
    throw invalid("cannot specify 64-byte hexadecimal strings as a repository name", s);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.search(/[:@]/);
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalid(`repository name (${remote}) must be lowercase`, s);
  }
  let ref: Reference;
  try {
    ref = parseStrictReference(`${domain}/${remainder}`);
  } catch (err) {
    if (err instanceof OciError)
      throw invalid(err.message.replace(/^.*?invalid reference format: /, ""), s, err);
    throw err;
  }
  if ((options.defaultTag ?? true) && ref.tag === undefined && ref.digest === undefined) {
    return ref.withTag(DEFAULT_TAG);
  }
  return ref;
}

/** isValidTag tells whether `tag` is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return anchoredTagRegexp.test(tag);
}

/** familiarString shortens a full reference string for display: `docker.io/library/nginx:latest` → `nginx:latest`. */
export function familiarString(s: string): string {
  return parseReference(s, { defaultTag: false }).familiarString();
}
