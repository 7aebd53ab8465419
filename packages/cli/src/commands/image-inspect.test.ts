import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostPlatform } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, makeTree, tsb } from "./__fixtures__/image.js";

describe("image inspect", () => {
  it("prints a JSON array like docker, --format templates, and errors for missing images", async () => {
    const root = await tempDir();
    const id = await importTree(root, "custom-nginx:packaged");
    const r = await tsb(root, ["image", "inspect", "custom-nginx:packaged"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("[\n    {\n")).toBe(true);
    const [obj] = JSON.parse(r.stdout);
    expect(obj).toMatchObject({ Id: id, RepoTags: ["custom-nginx:packaged"], Os: hostPlatform().os });
    expect(obj.RootFS.Layers).toHaveLength(1);

    const f = await tsb(root, [
      "inspect",
      "--format",
      "{{.Id}} {{.Os}}/{{.Architecture}} {{json .RepoTags}}",
      id.slice(7, 15),
    ]);
    expect(f.stdout).toBe(
      `${id} ${hostPlatform().os}/${hostPlatform().architecture} ["custom-nginx:packaged"]\n`,
    );

    const miss = await tsb(root, ["inspect", "custom-nginx:packaged", "ghost"]);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe("Error: No such image: ghost\n");
    expect(JSON.parse(miss.stdout)).toHaveLength(1);
  });

  it("has docker's shape: every Config field in docker's order, the import message as Comment, SIZE as docker counts", async () => {
    const root = await tempDir();
    const tree = await makeTree();
    await writeFile(join(tree, "big"), Buffer.alloc(1_234_567, 1));
    await tsb(root, ["import", "-m", "my import", "-c", 'CMD ["/bin/sh"]', tree, "app"]);
    await importTree(root, "plain");
    const [app] = JSON.parse((await tsb(root, ["image", "inspect", "app"])).stdout);
    // docker 20.10 `docker import -c 'CMD ["/bin/sh"]' -m "my import"`, byte for byte.
    const dockerConfig = {
      Hostname: "",
      Domainname: "",
      User: "",
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: null,
      Cmd: ["/bin/sh"],
      Image: "",
      Volumes: null,
      WorkingDir: "",
      Entrypoint: null,
      OnBuild: null,
      Labels: null,
    };
    expect(app.Config).toEqual(dockerConfig);
    expect(Object.keys(app.Config)).toEqual(Object.keys(dockerConfig));
    expect(app.Comment).toBe("my import");
    // Files (1234567 + 12 + 18 bytes) and the symlink target (9): what docker's overlay2 store counts.
    expect(app.Size).toBe(1_234_606);
    const [plain] = JSON.parse((await tsb(root, ["image", "inspect", "plain"])).stdout);
    expect(plain.Comment).toBe("Imported from -");
    expect(plain.Size).toBe(39);
    const ls = await tsb(root, ["images", "--format", "{{.Size}} {{.VirtualSize}}", "app"]);
    expect(ls.stdout).toBe("1.23MB 1.235MB\n");
  });
});
