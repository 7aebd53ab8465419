import {
  defaultStoreRoot,
  familiarString,
  ImageStore,
  isOciError,
  OciError,
  parseReference,
} from "@tsbuild/oci";
import type { Argv } from "yargs";
import { io, reportError } from "../output.js";

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

/**
 * daemonNotFound words a missing image as docker's daemon does for history,
 * tag and save: the name with its tag made explicit (`No such image:
 * nginx:latest`); inspect and rmi keep the name as given, as docker's client
 * does. Other errors pass through.
 */
export async function daemonNotFound<T>(input: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isOciError(err, "IMAGE_NOT_FOUND")) throw err;
    let ref: ReturnType<typeof parseReference>;
    try {
      ref = parseReference(input);
    } catch {
      throw err;
    }
    if (ref.digest !== undefined) throw err;
    throw new OciError("IMAGE_NOT_FOUND", `No such image: ${familiarString(ref.toString())}`, { cause: err });
  }
}

/** imagesPositional declares the `IMAGE...` arguments of rm, inspect and save. */
export function imagesPositional<T>(y: Argv<T>) {
  return y.positional("images", {
    type: "string",
    array: true,
    describe: "IMAGE (name or ID)",
    demandOption: true,
  });
}

/**
 * eachImage runs `fn` for every IMAGE argument as docker's rmi and inspect
 * do: an error is reported and the rest still run. It returns whether any
 * failed, for the command to exit 1 once it has printed the rest.
 */
export async function eachImage(
  images: readonly string[],
  fn: (image: string) => Promise<void>,
): Promise<boolean> {
  let failed = false;
  for (const image of images) {
    try {
      await fn(image);
    } catch (err) {
      reportError(err);
      failed = true;
    }
  }
  return failed;
}
