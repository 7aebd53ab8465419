import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Digest, digestOf } from "../digest.js";
import { MediaType } from "../media-types.js";
import type { Manifest } from "../types.js";
import { makeImage } from "./__fixtures__/images.js";
import { useTempStore } from "./__fixtures__/temp-store.js";
import type { BlobLease } from "./lease.js";
import { leasedDigests } from "./lease.js";
import { withFileLock } from "./lock.js";
import { ImageStore } from "./store.js";

const t = useTempStore("lease-test-");

/** collector is a second store instance on the same root: its gc honours every lease file, ours too. */
let collector: ImageStore;
beforeEach(async () => {
  collector = await ImageStore.open({ root: t.root });
});
afterEach(async () => {
  await collector.close();
});

async function survivesGc(d: Digest): Promise<boolean> {
  await collector.gc();
  return collector.layout.hasBlob(d);
}

/** leaseFileLines reads this process's lease files: the on-disk format leasedDigests reads. */
async function leaseFileLines(): Promise<string[]> {
  const dir = join(t.root, ".tmp");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith("lease-"));
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
  return texts.flatMap((s) => s.split("\n").filter(Boolean));
}

function manifestOf(layer: { digest: Digest; size: number }, config: Buffer): Manifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.OciLayerGzip, ...layer }],
  };
}

function configFor(layer: Buffer, tag: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Labels: { tag } },
      rootfs: { type: "layers", diff_ids: [digestOf(layer)] },
    }),
  );
}

/**
 * Two operations on one store instance share a blob: `first` writes it,
 * `second` leases it (as a pull that finds it present does). Whatever the
 * first does to end, the blob must survive a collection from another
 * instance until the second releases too.
 */
describe("two operations on one store sharing a blob", () => {
  const blob = Buffer.from("shared layer");
  const endings: {
    name: string;
    end: (store: ImageStore, lease: BlobLease, written: { digest: Digest; size: number }) => Promise<void>;
  }[] = [
    {
      name: "the first fails and discards what it wrote",
      end: async (store, lease, w) => {
        expect(await store.discardBlobs([w.digest], { lease })).toEqual([]);
        await lease.release();
      },
    },
    {
      name: "the first succeeds, releases, and its image is removed again",
      end: async (store, lease, w) => {
        const config = configFor(blob, "first");
        await store.addImage({ manifest: manifestOf(w, config), config, names: ["first"] });
        await lease.release();
        await store.remove("first");
      },
    },
    {
      name: "the first releases twice (idempotent) without naming it",
      end: async (_store, lease) => {
        await lease.release();
        await lease.release();
      },
    },
  ];

  it.each(endings)("$name: the blob stays until the second is done too", async ({ end }) => {
    const first = await t.store.lease();
    const written = await t.store.writeBlob(blob, undefined, { lease: first });
    const second = await t.store.lease([written.digest]);
    expect(await t.store.layout.hasBlob(written.digest)).toBe(true);
    await end(t.store, first, written);
    expect(await survivesGc(written.digest)).toBe(true);
    expect(await leasedDigests(t.root)).toContain(written.digest);
    await second.release();
    expect(await survivesGc(written.digest)).toBe(false);
  });

  it("two writes of the same blob under two leases: one release keeps it, both free it", async () => {
    const [a, b] = [await t.store.lease(), await t.store.lease()];
    const [wa, wb] = await Promise.all([
      t.store.writeBlob(blob, undefined, { lease: a }),
      t.store.writeBlob(blob, { digest: digestOf(blob), size: blob.length }, { lease: b }),
    ]);
    expect(wa).toEqual(wb);
    await a.release();
    expect(await survivesGc(wa.digest)).toBe(true);
    await b.release();
    expect(await survivesGc(wa.digest)).toBe(false);
  });

  it("a failed operation deletes only what nobody else holds", async () => {
    const other = Buffer.from("only the failing operation wrote this");
    const failing = await t.store.lease();
    const shared = await t.store.writeBlob(blob, undefined, { lease: failing });
    const own = await t.store.writeBlob(other, undefined, { lease: failing });
    const pull = await t.store.lease([shared.digest]);
    const removed = await t.store.discardBlobs([shared.digest, own.digest], { lease: failing });
    expect(removed).toEqual([own.digest]);
    expect(await t.store.layout.hasBlob(shared.digest)).toBe(true);
    await pull.release();
  });

  it("addImage ending its own lease on a config keeps another operation's lease on it", async () => {
    const layer = await t.store.writeBlob(blob);
    const config = configFor(blob, "shared config");
    // A pull leases the config it is about to find present (or write)...
    const pull = await t.store.lease([digestOf(config)]);
    // ...while a load names an image with that config: addImage writes it under a lease of its own.
    await t.store.addImage({ manifest: manifestOf(layer, config), config, names: ["loaded"] });
    await t.store.remove("loaded");
    expect(await survivesGc(digestOf(config))).toBe(true);
    await pull.release();
    expect(await survivesGc(digestOf(config))).toBe(false);
  });
});

describe("lease handles", () => {
  it("list a digest in the lease file while any lease holds it, and drop the file when none does", async () => {
    const d = digestOf("x");
    const [a, b] = [await t.store.lease([d]), await t.store.lease([d, d])];
    expect(await leaseFileLines()).toEqual([d]);
    await b.release([d]);
    expect(await leaseFileLines()).toEqual([d]);
    expect(b.holds(d)).toBe(false);
    await b.release([d]); // not held by b any more: a's hold must not be taken away
    expect(await leaseFileLines()).toEqual([d]);
    await a.release();
    expect(await leaseFileLines()).toEqual([]);
  });

  it("are all released by close, and a closed store's leases protect nothing", async () => {
    const w = await t.store.writeBlob(Buffer.from("pending"), undefined, { lease: await t.store.lease() });
    await t.store.lease([w.digest]);
    expect(await survivesGc(w.digest)).toBe(true);
    await t.store.close();
    expect(await survivesGc(w.digest)).toBe(false);
  });

  it("many overlapping leases of one digest: it stays until the last one ends", async () => {
    const d = (await collector.writeBlob(Buffer.from("present already"))).digest;
    await collector.close();
    const leases = await Promise.all(Array.from({ length: 20 }, () => t.store.lease([d])));
    for (const [i, lease] of leases.entries()) {
      expect(await survivesGc(d)).toBe(true);
      await (i % 2 === 0 ? lease.release() : lease.release([d]));
    }
    expect(await survivesGc(d)).toBe(false);
  });

  const present = Buffer.from("present already");
  const whileCollecting: {
    name: string;
    lease: (store: ImageStore, d: Digest) => Promise<BlobLease | undefined>;
    after: boolean;
  }[] = [
    // The operation looks after leasing: the blob is gone, so it fetches it again rather than naming a missing blob.
    { name: "store.lease", lease: (store, d) => store.lease([d]), after: false },
    {
      name: "lease.add",
      lease: async (store, d) => {
        const lease = await store.lease();
        await lease.add([d]);
        return lease;
      },
      after: false,
    },
    // writeBlob finds the blob missing once it may look, so it writes it rather than trusting a doomed copy.
    {
      name: "writeBlob of a present blob, with a lease",
      lease: async (store, d) => {
        const lease = await store.lease();
        await store.writeBlob(present, { digest: d, size: present.length }, { lease });
        return lease;
      },
      after: true,
    },
    {
      name: "writeBlob of a present blob, without a lease",
      lease: async (store, d) => {
        await store.writeBlob(present, { digest: d, size: present.length });
        return undefined;
      },
      after: true,
    },
  ];

  it.each(whileCollecting)(
    "$name waits while a collection holds the index lock, then sees what it left",
    async ({ lease, after }) => {
      const d = (await collector.writeBlob(present)).digest;
      await collector.close();
      let leased = false;
      let pending: Promise<BlobLease | undefined> | undefined;
      await withFileLock(join(t.root, "index.json.lock"), async () => {
        // A collection in progress has read the leases (none for d) and is about to delete d.
        pending = lease(t.store, d).then((l) => {
          leased = true;
          return l;
        });
        await new Promise((r) => setTimeout(r, 100));
        expect(leased).toBe(false);
        expect(await leasedDigests(t.root)).not.toContain(d);
        await collector.layout.deleteBlob(d);
      });
      const held = await pending;
      expect(await t.store.layout.hasBlob(d)).toBe(after);
      expect(await leasedDigests(t.root)).toContain(d);
      await held?.release();
    },
  );

  it("a lease that could not be written (lock timeout) holds nothing, and a later one is written", async () => {
    const store = await ImageStore.open({ root: t.root, lockTimeoutMs: 150 });
    const d = digestOf("x");
    try {
      await withFileLock(join(t.root, "index.json.lock"), async () => {
        const tries = await Promise.allSettled([store.lease([d]), store.lease([d])]);
        expect(tries.map((r) => r.status)).toEqual(["rejected", "rejected"]);
        expect((tries[0] as PromiseRejectedResult).reason).toMatchObject({ code: "LOCK_TIMEOUT" });
      });
      expect(await leasedDigests(t.root)).not.toContain(d);
      const lease = await store.lease([d]);
      expect(lease.holds(d)).toBe(true);
      expect(await leasedDigests(t.root)).toContain(d);
      // The failed leases hold nothing: releasing the good one frees the blob.
      await lease.release();
      expect(await leasedDigests(t.root)).not.toContain(d);
    } finally {
      await store.close();
    }
  });

  it("writes without a lease stay leased by the store until an image names them", async () => {
    const img = await makeImage(t.store, { names: ["app"] });
    const layer = img.manifest.layers[0]!.digest;
    expect(await leasedDigests(t.root)).not.toContain(layer);
    const pending = await t.store.writeBlob(Buffer.from("not named yet"));
    expect(await survivesGc(pending.digest)).toBe(true);
    expect(await t.store.discardBlobs([pending.digest])).toEqual([pending.digest]);
  });
});
