import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseXattrDump, readTreeXattrs, writeXattrs } from "./xattr.js";

describe("xattr dump", () => {
  it("round-trips names with special bytes and binary values through setfattr/getfattr", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xattr-"));
    try {
      const weird = join(dir, "we ird\nna\\me-ü");
      await writeFile(weird, "");
      await symlink("nowhere", join(dir, "dangling"));
      const value = Buffer.from([0, 1, 2, 255, 10]);
      expect(
        await writeXattrs([{ path: weird, xattrs: { "user.bin": value, "user.txt": Buffer.from("t") } }]),
      ).toBeUndefined();
      const got = await readTreeXattrs(dir);
      expect(got?.get(weird)).toEqual({ "user.bin": value, "user.txt": Buffer.from("t") });
      expect(got?.has(join(dir, "dangling"))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("drops host-specific attributes", () => {
    const m = parseXattrDump(
      '# file: /a\ntrusted.overlay.opaque=0seQ==\nsecurity.selinux="x"\nuser.k=0x6869\n\n# file: /b\ntrusted.overlay.origin=0sAA==\n',
    );
    expect([...m]).toEqual([["/a", { "user.k": Buffer.from("hi") }]]);
  });

  it("reports setfattr failures instead of throwing", async () => {
    const msg = await writeXattrs([{ path: "/nonexistent/x", xattrs: { "user.k": Buffer.from("v") } }]);
    expect(msg).toMatch(/nonexistent|No such file/);
  });
});
