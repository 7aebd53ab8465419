import { BuildError } from "../errors.js";

/** Owner is a numeric uid/gid pair. */
export interface Owner {
  uid: number;
  gid: number;
}

/** OwnerSpec is a parsed `--chown` value: each part a number or a name to look up in the image. */
export interface OwnerSpec {
  user: number | string;
  group?: number | string;
}

const NUMERIC = /^\d+$/;

/** parseOwnerSpec reads `user`, `user:group`, `uid`, `uid:gid` (BuildKit's parseChownFlag). */
export function parseOwnerSpec(value: string): OwnerSpec {
  const [user = "", group, ...rest] = value.split(":");
  if (user === "" || rest.length > 0 || group === "") {
    throw new BuildError("INVALID_CHOWN", `invalid chown value ${JSON.stringify(value)}`);
  }
  const part = (s: string) => (NUMERIC.test(s) ? Number(s) : s);
  return group === undefined ? { user: part(user) } : { user: part(user), group: part(group) };
}

/** needsLookup is true when a spec names a user or group, so the image's passwd/group files are read. */
export function needsLookup(spec: OwnerSpec): boolean {
  return typeof spec.user === "string" || typeof spec.group === "string";
}

interface DbLine {
  name: string;
  id: number;
  gid: number;
}

function parseDb(text: string | undefined, gidField: boolean): DbLine[] {
  if (!text) return [];
  const out: DbLine[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    const id = Number(f[2]);
    if (!f[0] || !Number.isInteger(id)) continue;
    out.push({ name: f[0], id, gid: gidField ? Number(f[3]) : id });
  }
  return out;
}

/**
 * resolveOwner turns a spec into ids as BuildKit's readUser does: a user name gives its uid and primary
 * gid from /etc/passwd, a numeric user gives uid=gid=N, and a group (name from /etc/group, or number)
 * replaces the gid. An unknown name is an error naming it.
 */
export function resolveOwner(spec: OwnerSpec, passwd: string | undefined, group: string | undefined): Owner {
  let uid: number;
  let gid: number;
  if (typeof spec.user === "number") {
    uid = spec.user;
    gid = spec.user;
  } else {
    const u = parseDb(passwd, true).find((l) => l.name === spec.user);
    if (!u)
      throw new BuildError(
        "UNKNOWN_USER",
        `unable to find user ${spec.user}: no matching entries in passwd file`,
      );
    uid = u.id;
    gid = Number.isInteger(u.gid) ? u.gid : u.id;
  }
  if (spec.group !== undefined) {
    if (typeof spec.group === "number") gid = spec.group;
    else {
      const g = parseDb(group, false).find((l) => l.name === spec.group);
      if (!g)
        throw new BuildError(
          "UNKNOWN_GROUP",
          `unable to find group ${spec.group}: no matching entries in group file`,
        );
      gid = g.id;
    }
  }
  return { uid, gid };
}

/** ModeSpec is a parsed `--chmod`: an absolute octal mode, or symbolic clauses applied to each entry's mode. */
export type ModeSpec = { octal: number } | { symbolic: string };

/** parseModeSpec accepts octal (`755`, `0644`) and chmod's symbolic form (`u+x,go-w`, `a=rX`). */
export function parseModeSpec(value: string): ModeSpec {
  if (/^[0-7]{1,4}$/.test(value)) return { octal: Number.parseInt(value, 8) };
  const clause = /^[ugoa]*([-+=]([rwxXst]*|[ugo]))+$/;
  if (value.split(",").every((c) => clause.test(c))) return { symbolic: value };
  throw new BuildError("INVALID_CHMOD", `invalid chmod parameter: ${JSON.stringify(value)}`);
}

/** applyMode computes the mode an entry gets under a spec (permission and special bits only). */
export function applyMode(spec: ModeSpec, mode: number, isDir: boolean): number {
  if ("octal" in spec) return spec.octal;
  let m = mode & 0o7777;
  for (const c of spec.symbolic.split(",")) {
    const who = /^[ugoa]*/.exec(c)![0];
    const mask =
      who === "" || who.includes("a")
        ? 0o7777
        : (who.includes("u") ? 0o4700 : 0) |
          (who.includes("g") ? 0o2070 : 0) |
          (who.includes("o") ? 0o1007 : 0);
    for (const [, op, perms] of c.slice(who.length).matchAll(/([-+=])([rwxXst]*|[ugo])/g)) {
      let bits = 0;
      if (perms === "u" || perms === "g" || perms === "o") {
        const shift = perms === "u" ? 6 : perms === "g" ? 3 : 0;
        const v = (m >> shift) & 7;
        bits = (v << 6) | (v << 3) | v;
      } else {
        for (const p of perms ?? "") {
          if (p === "r") bits |= 0o444;
          else if (p === "w") bits |= 0o222;
          else if (p === "x") bits |= 0o111;
          else if (p === "X") bits |= isDir || m & 0o111 ? 0o111 : 0;
          else if (p === "s") bits |= 0o6000;
          else if (p === "t") bits |= 0o1000;
        }
      }
      bits &= mask;
      if (op === "+") m |= bits;
      else if (op === "-") m &= ~bits;
      else m = (m & ~(mask & 0o777)) | bits;
    }
  }
  return m;
}
