// worker.mjs: a separate process that works on a store, for the concurrency and crash tests.
// Usage: node worker.mjs <op> <root> [args...]; imports the built package (packages/oci/dist).
import { once } from "node:events";
import { ImageStore } from "../../../dist/index.js";

const [op, root, ...args] = process.argv.slice(2);
const store = await ImageStore.open({ root, lockTimeoutMs: 30_000 });

if (op === "tag") {
  // Tag `count` names `<prefix>:<i>`; untag every odd one again right after.
  const [prefix, count, source] = args;
  for (let i = 0; i < Number(count); i++) {
    await store.tag(source, `${prefix}:${i}`);
    if (i % 2 === 1) await store.remove(`${prefix}:${i}`);
  }
} else if (op === "blob") {
  // Write a never-ending blob slowly; the parent kills us mid-write.
  const chunk = Buffer.alloc(64 * 1024, 1);
  async function* slow() {
    for (let i = 0; ; i++) {
      if (i === 10) process.stdout.write("writing\n");
      yield chunk;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  await store.writeBlob(slow());
} else if (op === "churn") {
  // Tag and remove names forever (each is an index rewrite under the lock); the parent kills us.
  const [source] = args;
  for (let i = 0; ; i++) {
    await store.tag(source, `churn:${i}`);
    await store.remove(`churn:${i}`);
    if (i === 0) process.stdout.write("ready\n");
  }
} else if (op === "pending") {
  // Write a layer and a config, wait for a line on stdin, then add the image that uses them.
  const layer = await store.writeBlob(Buffer.from(`pending layer ${process.pid}`));
  const cfg = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } };
  const config = await store.writeBlob(Buffer.from(JSON.stringify(cfg)));
  process.stdout.write(`written ${layer.digest} ${config.digest}\n`);
  await once(process.stdin, "data");
  await store.addImage({
    manifest: {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    },
    names: ["pending"],
  });
} else {
  throw new Error(`unknown op ${op}`);
}
await store.close();
