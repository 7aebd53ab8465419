import { rm } from "node:fs/promises";
import type { Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";

/**
 * removeTree deletes a directory a step or an unpack wrote; rootless, where
 * this process may not (files of other ids, directories it cannot enter),
 * through the namespace's root.
 */
export async function removeTree(identity: Identity, dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    // Files of other ids, or overlay's 000 work dir: only the namespace's root may remove them.
    if (!identity.rootless) throw err;
    await runInNamespace(identity, "rm", ["-rf", "--", dir]);
  }
}
