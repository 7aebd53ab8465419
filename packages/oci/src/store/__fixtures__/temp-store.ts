import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { ImageStore } from "../store.js";

/**
 * useTempStore gives each test of the calling file a fresh store in a temp
 * directory, closed and deleted afterwards. Read `root` and `store` inside tests.
 */
export function useTempStore(prefix = "store-test-"): { readonly root: string; readonly store: ImageStore } {
  const current = { root: "", store: undefined as ImageStore | undefined };
  beforeEach(async () => {
    current.root = await mkdtemp(join(tmpdir(), prefix));
    current.store = await ImageStore.open({ root: current.root });
  });
  afterEach(async () => {
    await current.store?.close();
    await rm(current.root, { recursive: true, force: true });
  });
  return {
    get root() {
      return current.root;
    },
    get store() {
      if (!current.store) throw new Error("useTempStore: read the store inside a test");
      return current.store;
    },
  };
}
