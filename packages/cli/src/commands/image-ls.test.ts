import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, tsb } from "./__fixtures__/image.js";

describe("image ls / images", () => {
  let root: string;
  let id: string;
  let danglingId: string;
  beforeAll(async () => {
    root = await tempDir();
    id = await importTree(root, "custom-nginx:packaged");
    await tsb(root, ["tag", "custom-nginx:packaged", "localhost:5000/team/app:v1"]);
    danglingId = await importTree(root, undefined, {
      SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) - 3 * 86400),
    });
  });

  it("prints docker's table with familiar names, <none> for dangling, newest first", async () => {
    const r = await tsb(root, ["images"]);
    expect(r.code).toBe(0);
    const short = id.slice(7, 19);
    const size = (await tsb(root, ["image", "ls", "--format", "{{.Size}}", "custom-nginx"])).stdout.trim();
    expect(size).toMatch(/^\d+(\.\d+)?[kM]?B$/);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
    expect(r.stdout).toContain(`custom-nginx              packaged   ${short}   2 hours ago   ${size}\n`);
    expect(r.stdout).toContain(`localhost:5000/team/app   v1         ${short}   2 hours ago   ${size}\n`);
    expect(lines[3]).toMatch(new RegExp(`^<none>\\s+<none>\\s+${danglingId.slice(7, 19)}\\s+3 days ago\\s+`));
    expect(lines).toHaveLength(5);
  });

  it("-q prints short ids, --no-trunc full ids", async () => {
    const q = await tsb(root, ["image", "ls", "-q"]);
    expect(q.stdout).toBe(`${id.slice(7, 19)}\n${id.slice(7, 19)}\n${danglingId.slice(7, 19)}\n`);
    const full = await tsb(root, ["images", "-q", "--no-trunc"]);
    expect(full.stdout.split("\n")[0]).toBe(id);
  });

  it("filters by REPOSITORY[:TAG] with wildcards, and by dangling", async () => {
    const f = async (...args: string[]) =>
      (await tsb(root, ["images", "--format", "{{.Repository}}:{{.Tag}}", ...args])).stdout;
    expect(await f("custom-nginx")).toBe("custom-nginx:packaged\n");
    expect(await f("docker.io/library/custom-nginx:packaged")).toBe("custom-nginx:packaged\n");
    expect(await f("custom-nginx:other")).toBe("");
    expect(await f("localhost:5000/team/*")).toBe("localhost:5000/team/app:v1\n");
    expect(await f("*")).toBe("custom-nginx:packaged\n");
    expect(await f("--filter", "dangling=true")).toBe("<none>:<none>\n");
    expect(await f("--filter", "reference=custom-*")).toBe("custom-nginx:packaged\n");
  });

  it("--digests adds a DIGEST column", async () => {
    const r = await tsb(root, ["images", "--digests", "custom-nginx"]);
    expect(r.stdout.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(r.stdout.split("\n")[1]).toMatch(/^custom-nginx\s+packaged\s+<none>\s+[0-9a-f]{12}\s/);
  });

  it("--format json prints docker's fields, one object per line", async () => {
    const r = await tsb(root, ["images", "--format", "json", "custom-nginx"]);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(r.stdout).toContain('"Digest":"\\u003cnone\\u003e"');
    const obj = JSON.parse(r.stdout);
    expect(Object.keys(obj)).toEqual([
      "Containers",
      "CreatedAt",
      "CreatedSince",
      "Digest",
      "ID",
      "Repository",
      "SharedSize",
      "Size",
      "Tag",
      "UniqueSize",
      "VirtualSize",
    ]);
    expect(obj).toMatchObject({
      ID: id.slice(7, 19),
      Repository: "custom-nginx",
      Tag: "packaged",
      CreatedSince: "2 hours ago",
    });
    expect(obj.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+/);
  });

  it("a table template gets headers", async () => {
    const r = await tsb(root, ["images", "--format", "table {{.ID}}\\t{{.Repository}}", "custom-nginx"]);
    expect(r.stdout).toBe(`IMAGE ID       REPOSITORY\n${id.slice(7, 19)}   custom-nginx\n`);
  });

  it("usage errors exit 2", async () => {
    for (const args of [
      ["images", "--bogus"],
      ["images", "--filter", "nonsense"],
      ["images", "--format", "{{if .X}}"],
    ]) {
      const r = await tsb(root, args);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  it("images --filter before/since/label", async () => {
    const root = await tempDir();
    await importTree(root, "old", { SOURCE_DATE_EPOCH: "1000000000" });
    await importTree(root, "mid", { SOURCE_DATE_EPOCH: "1100000000" });
    await importTree(root, "new", { SOURCE_DATE_EPOCH: "1200000000" });
    const f = async (...args: string[]) =>
      (await tsb(root, ["images", "--format", "{{.Repository}}", ...args])).stdout;
    expect(await f()).toBe("new\nmid\nold\n");
    expect(await f("--filter", "before=mid")).toBe("old\n");
    expect(await f("--filter", "since=mid")).toBe("new\n");
    expect(await f("--filter", "label=maintainer")).toBe("");
  });
});
