import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

/** IdRange maps `size` ids starting at `containerId` inside the user namespace to `hostId` outside. */
export interface IdRange {
  readonly containerId: number;
  readonly hostId: number;
  readonly size: number;
}

/**
 * Identity says how RUN steps get their privileges. As root: no user
 * namespace (`rootless` false, identity maps). As an ordinary user: a user
 * namespace mapping the user to 0 and its subordinate ranges (from
 * /etc/subuid and /etc/subgid) to 1…n, written by newuidmap/newgidmap; with
 * no ranges, only the user itself is mapped (`singleId`), so `chown` to any
 * other id and apt's privilege drop fail — `warning` says so.
 */
export interface Identity {
  readonly rootless: boolean;
  readonly uid: readonly IdRange[];
  readonly gid: readonly IdRange[];
  /** singleId is true when the namespace maps only the user (no subordinate ranges). */
  readonly singleId: boolean;
  readonly warning?: string;
}

/** SubIdRange is one line of /etc/subuid or /etc/subgid that applies to the user. */
interface SubIdRange {
  start: number;
  count: number;
}

/** parseSubIds returns the ranges `file`'s text grants to the user (by name or numeric id), in file order. */
export function parseSubIds(text: string, name: string, id: number): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who === undefined || start === undefined || count === undefined) continue;
    if (who !== name && who !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** rangesFor maps the user to 0 and the subordinate ranges to 1, 1+n, … in order. */
function rangesFor(self: number, subs: SubIdRange[]): IdRange[] {
  const out: IdRange[] = [{ containerId: 0, hostId: self, size: 1 }];
  let next = 1;
  for (const r of subs) {
    out.push({ containerId: next, hostId: r.start, size: r.count });
    next += r.count;
  }
  return out;
}

/** currentIdentity works out the Identity of this process from its euid and /etc/subuid, /etc/subgid. */
export function currentIdentity(files = { subuid: "/etc/subuid", subgid: "/etc/subgid" }): Identity {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  if (uid === 0) {
    const all = [{ containerId: 0, hostId: 0, size: 4294967295 }];
    return { rootless: false, uid: all, gid: all, singleId: false };
  }
  let name = String(uid);
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry: only numeric lines can match
  }
  const subUid = parseSubIds(readOrEmpty(files.subuid), name, uid);
  const subGid = parseSubIds(readOrEmpty(files.subgid), name, uid);
  if (subUid.length === 0 || subGid.length === 0) {
    const one = (self: number): IdRange[] => [{ containerId: 0, hostId: self, size: 1 }];
    return {
      rootless: true,
      uid: one(uid),
      gid: one(gid),
      singleId: true,
      warning:
        `no subordinate ${subUid.length === 0 ? "uids" : "gids"} for ${name} in ${subUid.length === 0 ? files.subuid : files.subgid}: ` +
        "RUN steps see only uid/gid 0, so chown to another id and programs that drop privileges (apt's _apt) fail. " +
        `Fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name}`,
    };
  }
  return { rootless: true, uid: rangesFor(uid, subUid), gid: rangesFor(gid, subGid), singleId: false };
}

/** toContainerId maps a host id back to the id the step saw (undefined when the namespace does not map it). */
export function toContainerId(ranges: readonly IdRange[], hostId: number): number | undefined {
  for (const r of ranges) {
    if (hostId >= r.hostId && hostId < r.hostId + r.size) return r.containerId + (hostId - r.hostId);
  }
  return undefined;
}

/** mapArgs is the newuidmap/newgidmap argument list (after the pid) for `ranges`. */
export function mapArgs(ranges: readonly IdRange[]): string[] {
  return ranges.flatMap((r) => [String(r.containerId), String(r.hostId), String(r.size)]);
}
