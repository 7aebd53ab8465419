import { canonicalJson, digestOf, ImageStore } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { escapeRe, importTree, tsb } from "./__fixtures__/image.js";

describe("image history", () => {
  it("lists steps newest first with <missing>, truncation and sizes", async () => {
    const root = await tempDir();
    await importTree(root, "base");
    const store = await ImageStore.open({ root });
    const base = await store.resolve("base");
    const longCmd = `/bin/sh -c apt-get update && apt-get install -y\tcurl ca-certificates && rm -rf /var/lib/apt/lists/*`;
    const config = {
      ...base.config,
      history: [
        ...(base.config.history ?? []),
        { created: base.config.created, created_by: longCmd, empty_layer: true, comment: "step" },
      ],
    };
    const cfg = canonicalJson(config);
    const child = await store.addImage({
      manifest: {
        ...base.manifest,
        config: { ...base.manifest.config, digest: digestOf(cfg), size: cfg.length },
      },
      config: cfg,
      names: ["child"],
    });
    await store.close();

    const r = await tsb(root, ["history", "child"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    const cut = `${longCmd.replace(/\t/g, " ").slice(0, 44)}…`;
    expect(lines[1]).toMatch(
      new RegExp(`^${child.id.slice(7, 19)}\\s+2 hours ago\\s+${escapeRe(cut)}\\s+0B\\s+step$`),
    );
    // docker's SIZE counts the files (12 + 18 bytes) and the symlink target (9), not the tar or gzip blob.
    expect(lines[2]).toMatch(/^<missing>\s+2 hours ago\s+39B\s+Imported from -$/);

    const full = await tsb(root, ["image", "history", "--no-trunc", "child"]);
    expect(full.stdout).toContain(longCmd.replace(/\t/g, " "));
    expect(full.stdout).toContain(child.id);

    expect((await tsb(root, ["history", "-q", "child"])).stdout).toBe(
      `${child.id.slice(7, 19)}\n<missing>\n`,
    );
    const json = (await tsb(root, ["history", "--format", "json", "child"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({
      ID: child.id.slice(7, 19),
      Comment: "step",
      Size: "0B",
      CreatedSince: "2 hours ago",
    });
    // docker's history CreatedAt is RFC 3339 to the second, whatever --human says.
    expect(json[0].CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Object.keys(json[0]).sort()).toEqual([
      "Comment",
      "CreatedAt",
      "CreatedBy",
      "CreatedSince",
      "ID",
      "Size",
    ]);

    // docker's daemon names the tag it looked for.
    const missing = await tsb(root, ["history", "nope"]);
    expect(missing).toMatchObject({ code: 1, stderr: "Error: No such image: nope:latest\n" });
    const byDigest = await tsb(root, ["history", `nope@sha256:${"0".repeat(64)}`]);
    expect(byDigest).toMatchObject({
      code: 1,
      stderr: `Error: No such image: nope@sha256:${"0".repeat(64)}\n`,
    });
  });

  it("history -H=false prints raw sizes and RFC 3339 dates", async () => {
    const root = await tempDir();
    await importTree(root, "x", { SOURCE_DATE_EPOCH: "1700000000" });
    const r = await tsb(root, ["history", "--human=false", "--format", "{{.CreatedSince}}|{{.Size}}", "x"]);
    expect(r.stdout).toMatch(/^2023-11-14T22:13:20Z\|\d+\n$/);
    const short = await tsb(root, ["history", "-H=false", "--format", "{{.CreatedSince}}", "x"]);
    expect(short.stdout).toBe("2023-11-14T22:13:20Z\n");
    // docker 20.10: `IMAGE  CREATED AT  CREATED BY  SIZE  COMMENT`, raw bytes.
    const table = (await tsb(root, ["history", "-H=false", "x"])).stdout.split("\n");
    expect(table[0]).toMatch(/^IMAGE\s+CREATED AT\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(table[1]).toMatch(/^[0-9a-f]{12}\s+2023-11-14T22:13:20Z\s+39\s+Imported from -$/);
  });
});
