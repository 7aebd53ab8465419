import { rm } from "node:fs/promises";
import type { Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";

/**
 * removeTree deletes a directory a step or an unpack wrote; rootless through
 * the namespace's root, since it may hold files of other ids and directories
 * the user cannot enter.
 */
export async function removeTree(identity: Identity, dir: string): Promise<void> {
  if (identity.rootless) await runInNamespace(identity, "rm", ["-rf", "--", dir]);
  else await rm(dir, { recursive: true, force: true });
}
