/**
 * The README's library example, run for real: the code between the markers is
 * what README.md shows (with the registry address and paths of this test).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planBuild } from "@tsbuild/builder";
import { ImageStore, parseReference } from "@tsbuild/oci";
import { createRegistryClient, pullImage, pushImage } from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

let registry: TestRegistry;
let dir: string;

beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), "tsbuild-example-"));
  // Seed the registry with a base image, as a real pipeline would find one there.
  const seed = await ImageStore.open({ root: join(dir, "seed") });
  const base = await makeTestImage(seed, {
    layers: [[{ path: "etc/os-release", type: "file", content: Buffer.from("ID=example\n"), mode: 0o644 }]],
    names: [`${registry.host}/library/busybox:latest`],
  });
  await pushImage(createRegistryClient(), base, parseReference(`${registry.host}/library/busybox:latest`), {
    store: seed,
  });
  await seed.close();
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("README library example", () => {
  it("pulls, re-tags, pushes and plans a Dockerfile", async () => {
    const REGISTRY = registry.host;
    const log: string[] = [];
    const console = { log: (...args: unknown[]) => log.push(args.join(" ")) };
    // --- README example begins
    const store = await ImageStore.open({ root: join(dir, "store") });
    const client = createRegistryClient(); // ~/.docker/config.json credentials, insecure/CA/mirror settings

    const { image } = await pullImage(client, parseReference(`${REGISTRY}/library/busybox:latest`), {
      store,
      onProgress: (e) => e.type === "layer" && console.log(e.status, e.digest),
    });
    const target = parseReference(`${REGISTRY}/team/busybox:v1`);
    await store.tag(image.id, target.toString());
    const pushed = await pushImage(client, image, target, { store });
    console.log(`pushed ${target} as ${pushed.digest}`);

    const plan = planBuild(
      `ARG VERSION=1.0
FROM ${REGISTRY}/library/busybox:latest AS runtime
ARG VERSION
ENV APP_VERSION=$VERSION
WORKDIR /app
CMD ["httpd", "-f"]`,
      { buildArgs: { VERSION: "2.1" } },
    );
    for (const stage of plan.stages) console.log(stage.id, stage.base, stage.steps.length, "steps");
    await store.close();
    // --- README example ends

    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(log.some((l) => l.startsWith("pushed "))).toBe(true);
    expect(plan.stages).toHaveLength(1);
    const env = plan.stages[0]!.steps.at(-1)!.env;
    expect(env).toContainEqual(["APP_VERSION", "2.1"]);
    const check = await ImageStore.open({ root: join(dir, "store") });
    expect((await check.resolve(`${REGISTRY}/team/busybox:v1`)).id).toBe(image.id);
    await check.close();
  });
});
