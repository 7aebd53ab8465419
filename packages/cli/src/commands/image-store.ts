import { defaultStoreRoot, ImageStore } from "@tsbuild/oci";
import { io } from "../output.js";

/** StoreArgs are the global options every store command reads. */
export interface StoreArgs {
  root?: string;
}

/** storeRoot is `--root`, else $TSBUILD_ROOT / $XDG_DATA_HOME/tsbuild / ~/.local/share/tsbuild. */
export function storeRoot(argv: StoreArgs): string {
  return argv.root ?? defaultStoreRoot(io().env);
}

/** withStore opens the local image store for one command and always closes it (releasing blob leases). */
export async function withStore<T>(argv: StoreArgs, fn: (store: ImageStore) => Promise<T>): Promise<T> {
  const store = await ImageStore.open({ root: storeRoot(argv) });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
