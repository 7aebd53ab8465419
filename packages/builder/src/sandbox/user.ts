import { BuildError } from "../errors.js";

/** ProcessUser is who a RUN's process runs as inside the container. */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** home is the passwd entry's home directory (for HOME when the env does not set it). */
  home: string;
}

/** FileReader reads a file of the rootfs ("etc/passwd"); undefined when it is missing. */
export type FileReader = (rel: string) => string | undefined;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

function parseGroup(text: string | undefined): Array<{ name: string; gid: number; members: string[] }> {
  const out: Array<{ name: string; gid: number; members: string[] }> = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.push({ name: f[0]!, gid, members: f[3]!.split(",").filter(Boolean) });
  }
  return out;
}

const NUMERIC = /^\d+$/;

/**
 * resolveUser turns a Dockerfile USER ("name", "uid", "uid:gid",
 * "name:group", "" for root) into ids as runc's libcontainer/user does in
 * the rootfs: a name must be in /etc/passwd, a group name in /etc/group;
 * numeric ids need no entry. Without a group the passwd entry's gid is used
 * (0 for an unknown numeric uid), and the user's supplementary groups from
 * /etc/group are added (none when a group was given).
 */
export function resolveUser(spec: string, read: FileReader): ProcessUser {
  const [userPart = "", groupPart] = spec.split(":", 2) as [string, string | undefined];
  const passwd = parsePasswd(read("etc/passwd"));
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === "") uid = 0;
  else if (NUMERIC.test(userPart)) uid = Number(userPart);
  else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) {
      throw new BuildError(
        "UNKNOWN_USER",
        `unable to find user ${userPart}: no matching entries in passwd file`,
      );
    }
    uid = entry.uid;
  }
  entry ??= passwd.find((p) => p.uid === uid);
  let gid = entry?.gid ?? 0;
  const groups = groupPart !== undefined || entry ? parseGroup(read("etc/group")) : [];
  if (groupPart !== undefined && groupPart !== "") {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) {
        throw new BuildError(
          "UNKNOWN_GROUP",
          `unable to find group ${groupPart}: no matching entries in group file`,
        );
      }
      gid = g.gid;
    }
  }
  // As containerd's WithAdditionalGIDs (BuildKit): the primary group, then the groups listing the user.
  const additionalGids =
    groupPart === undefined && entry
      ? [...new Set([gid, ...groups.filter((g) => g.members.includes(entry!.name)).map((g) => g.gid)])]
      : [gid];
  return { uid, gid, additionalGids, home: entry?.home || "/" };
}
