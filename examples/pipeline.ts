/**
 * A build pipeline in code: build an image from a Dockerfile held in a string, tag it, push it to a
 * registry, and print what happens as it happens. The same steps as
 * `tsbuild build -t REGISTRY/REPO:TAG --push DIR`, without a shell in between.
 *
 *     node --import tsx examples/pipeline.ts 127.0.0.1:5000/team/hello:1
 *
 * test/examples-pipeline.test.ts runs it against a real registry.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildEvent, build } from "@tsbuild/builder";
import { ImageStore } from "@tsbuild/oci";
import { createRegistryClient } from "@tsbuild/registry-client";

/** DOCKERFILE is the image to build: a file from the context, some metadata, no base image needed. */
const DOCKERFILE = `FROM scratch
COPY hello.txt /srv/hello.txt
ENV GREETING=hello
LABEL org.opencontainers.image.source=examples/pipeline.ts
CMD ["/srv/hello.txt"]
`;

export interface PipelineOptions {
  /** image is where the result goes: `registry/repository:tag`. */
  image: string;
  /** root is the image store (base images, build cache, the built image). */
  root: string;
  /** log prints one line (default console.log). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PipelineResult {
  /** id is the image id (its config's digest), as `tsbuild images` shows it. */
  id: string;
  /** digest is the manifest's digest in the registry: the image is `image@digest` there. */
  digest: string;
}

/** pipeline writes a context, builds DOCKERFILE in it, tags the image and pushes it. */
export async function pipeline(options: PipelineOptions): Promise<PipelineResult> {
  const log = options.log ?? console.log;
  const context = await mkdtemp(join(tmpdir(), "tsbuild-pipeline-"));
  await writeFile(join(context, "hello.txt"), "hello from a pipeline\n");

  const store = await ImageStore.open({ root: options.root });
  const client = createRegistryClient(); // ~/.docker/config.json credentials, registry settings
  try {
    const handle = build({
      store,
      client,
      dockerfile: DOCKERFILE,
      contextDir: context,
      tags: [options.image],
      push: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for await (const event of handle) {
      const line = describe(event);
      if (line !== undefined) log(line);
    }
    const image = await handle.result;
    const pushed = image.pushed[0]!;
    log(`pushed ${pushed.name}@${pushed.digest}`);
    return { id: image.configDigest, digest: pushed.digest };
  } finally {
    await client.close();
    await store.close();
    await rm(context, { recursive: true, force: true });
  }
}

/** describe is one line for an event, as a CI log would show it. */
function describe(e: BuildEvent): string | undefined {
  switch (e.type) {
    case "step":
      return e.stage === "" ? `#${e.id} ${e.text}` : `#${e.id} [${e.stage} ${e.index}/${e.total}] ${e.text}`;
    case "cached":
      return `#${e.id} CACHED`;
    case "done":
      return `#${e.id} DONE ${e.seconds.toFixed(1)}s${e.layer ? ` ${e.layer}` : ""}`;
    case "progress":
      return e.total === undefined ? undefined : `#${e.id} ${e.current}/${e.total} bytes`;
    case "log":
      return `#${e.id} ${e.data.toString("utf8").trimEnd()}`;
    case "warning":
      return `WARNING: ${e.message}`;
    case "image":
      return `built ${e.image.configDigest}`;
    default:
      return undefined;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const image = process.argv[2];
  if (!image) {
    console.error("usage: pipeline.ts REGISTRY/REPOSITORY:TAG");
    process.exit(2);
  }
  const root = process.env.TSBUILD_ROOT ?? (await mkdtemp(join(tmpdir(), "tsbuild-pipeline-store-")));
  await pipeline({ image, root });
}
