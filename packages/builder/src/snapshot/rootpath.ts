/**
 * resolveInRoot follows symlinks in a relative path inside a root, as continuity's RootPath does: an
 * absolute link target restarts at the root, ".." never climbs above it. `linkOf(rel)` is the target of
 * the symlink at `rel`, undefined when it is none. With `followLast` false the last name is not followed.
 * After 255 links `tooMany` is called; without it the rest of the path is taken as it is.
 */
export function resolveInRoot(
  path: string,
  linkOf: (rel: string) => string | undefined,
  followLast = true,
  tooMany?: () => never,
): string {
  const names = (p: string) => p.split("/").filter((s) => s !== "" && s !== ".");
  let pending = names(path);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === "..") {
      done.pop();
      continue;
    }
    const target = followLast || pending.length > 0 ? linkOf([...done, seg].join("/")) : undefined;
    if (target !== undefined && (hops < 255 || tooMany?.())) {
      hops++;
      if (target.startsWith("/")) done.length = 0;
      pending = [...names(target), ...pending];
      continue;
    }
    done.push(seg);
  }
  return done.join("/");
}
