import { type Digest, digestHex, isOciError, parseReference, type Reference } from "@tsbuild/oci";
import { type PushProgressEvent, type PushResult, pushImage, pushIndex } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { io } from "../output.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";
import {
  type LayerRows,
  type ProgressArgs,
  progressFlags,
  TransferOutput,
  usesDefaultTag,
} from "./registry-progress.js";

interface PushArgs extends StoreArgs, RegistryArgs, ProgressArgs {
  name: string;
  "all-tags"?: boolean;
}

/**
 * pushProgress turns push events into docker's output: per layer `Pushing`
 * (a bar on a terminal), then `Pushed`, `Layer already exists` or `Mounted
 * from REPO`. Docker names a pushed layer by its diff ID (the uncompressed
 * digest), so `ids` maps each layer digest to the id shown.
 */
function pushProgress(rows: LayerRows, ids: Map<Digest, string>): (e: PushProgressEvent) => void {
  return (e) => {
    if (e.kind !== "layer") return;
    const id = ids.get(e.digest) ?? digestHex(e.digest).slice(0, 12);
    if (e.status === "exists") rows.status(id, "Layer already exists");
    else if (e.status === "mounted") rows.status(id, `Mounted from ${e.from}`);
    else if (e.status === "pushing") rows.bytes(id, "Pushing", e.current, e.total);
    else if (e.status === "pushed") rows.status(id, "Pushed");
  };
}

/** pushCommand is `tsbuild push NAME[:TAG]`, docker's verb: the name says where (`localhost:5000/me/app:1`). */
export const pushCommand: CommandModule<StoreArgs & RegistryArgs, PushArgs> = {
  command: "push <name>",
  describe: "Upload an image to a registry",
  builder: (y: Argv<StoreArgs & RegistryArgs>) =>
    progressFlags(
      y
        .positional("name", { type: "string", describe: "NAME[:TAG]", demandOption: true })
        .option("all-tags", {
          alias: "a",
          type: "boolean",
          describe: "Push all tags of an image to the repository",
        })
        .example("tsbuild push registry.example.com/team/myapp:1.0", "upload an image and its layers"),
    ),
  handler: async (argv) => {
    const ref = parseReference(argv.name, { defaultTag: !argv["all-tags"] });
    if (argv["all-tags"] && ref.tag !== undefined) {
      throw new Error("tag can't be used with --all-tags/-a");
    }
    if (ref.digest !== undefined) throw new Error("cannot push a digest reference");
    const out = new TransferOutput(argv, io().stdout, "Pushing");
    const progress = (ids: Map<Digest, string>) => out.events(pushProgress(out.rows, ids));
    await withRegistryClient(argv, (client, signal) =>
      withStore(argv, async (store) => {
        let refs: Reference[] = [ref];
        // As docker: no image in the repository at all is this error, before anything is printed;
        // a repository that has images but not this tag is "tag does not exist" below.
        // Every named entry counts, multi-platform indexes too (StoredImage does not model them).
        const inRepo = (await store.names())
          .map((n) => parseReference(n))
          .filter((r) => r.name === ref.name && r.tag !== undefined);
        if (inRepo.length === 0)
          throw new Error(`An image does not exist locally with the tag: ${ref.familiarName}`);
        if (argv["all-tags"]) refs = inRepo.sort((a, b) => (a.tag ?? "").localeCompare(b.tag ?? ""));
        if (!argv["all-tags"] && usesDefaultTag(argv.name)) out.say("Using default tag: latest");
        out.say(`The push refers to repository [${ref.name}]`);
        for (const target of refs) {
          const multi = await store.indexNamed(target.toString());
          let result: PushResult;
          if (multi) {
            result = await pushIndex(client, multi, target, {
              store,
              onProgress: progress(new Map()),
              signal,
            });
          } else {
            const image = await store.resolve(target.toString()).catch((err: unknown) => {
              if (isOciError(err, "IMAGE_NOT_FOUND")) {
                throw new Error(`tag does not exist: ${target.familiarString()}`);
              }
              throw err;
            });
            const ids = new Map<Digest, string>();
            image.manifest.layers.forEach((l, i) => {
              const diffId = image.config.rootfs.diff_ids[i];
              ids.set(l.digest, digestHex(diffId ?? l.digest).slice(0, 12));
            });
            if (out.human) {
              for (const l of [...image.manifest.layers].reverse())
                out.rows.status(ids.get(l.digest) ?? "", "Preparing");
            }
            result = await pushImage(client, image, target, { store, onProgress: progress(ids), signal });
          }
          const { tag, digest, size } = result;
          const line = `${tag}: digest: ${digest} size: ${size}`;
          if (out.human) out.say(line);
          out.result(
            { type: "pushed", name: target.toString(), tag, digest, size },
            argv.quiet ? target.toString() : undefined,
          );
        }
      }),
    );
  },
};
