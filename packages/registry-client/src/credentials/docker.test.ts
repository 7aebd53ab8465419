import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRegistryError } from "../errors.js";
import { DockerCredentialStore } from "./docker.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-creds-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
}

/** fakeHelper installs `docker-credential-test` (a node script keeping a JSON file) in a temp PATH. */
async function fakeHelper(): Promise<{
  env: NodeJS.ProcessEnv;
  stored: () => Promise<Record<string, unknown>>;
}> {
  const bin = join(dir, "bin");
  const db = join(dir, "helper-db.json");
  await writeFile(db, "{}");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(bin);
  const script = `#!${process.execPath}
const fs = require("fs");
const db = process.env.FAKE_HELPER_DB;
const data = JSON.parse(fs.readFileSync(db, "utf8"));
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const action = process.argv[2];
  if (action === "get") {
    const e = data[input.trim()];
    if (!e) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: e.Username, Secret: e.Secret }));
  } else if (action === "store") {
    const e = JSON.parse(input);
    if (e.Secret === "explode") { process.stdout.write("keychain locked"); process.exit(1); }
    data[e.ServerURL] = e;
    fs.writeFileSync(db, JSON.stringify(data));
  } else if (action === "erase") {
    if (!data[input.trim()]) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
    delete data[input.trim()];
    fs.writeFileSync(db, JSON.stringify(data));
  } else { process.exit(2); }
});
`;
  const path = join(bin, "docker-credential-test");
  await writeFile(path, script);
  await chmod(path, 0o755);
  return {
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, FAKE_HELPER_DB: db },
    stored: async () => JSON.parse(await readFile(db, "utf8")),
  };
}

describe("DockerCredentialStore with config.json", () => {
  it.each([
    ["docker.io", "https://index.docker.io/v1/"],
    ["index.docker.io", "https://index.docker.io/v1/"],
    ["localhost:5000", "localhost:5000"],
    ["localhost:5000", "https://localhost:5000"],
    ["registry.example.com", "https://registry.example.com/v1/"],
  ])("finds %s under key %s", async (registry, key) => {
    await writeConfig({ auths: { [key]: { auth: b64("user:pa:ss") } } });
    const store = new DockerCredentialStore({ configDir: dir });
    expect(await store.get(registry)).toEqual({ username: "user", password: "pa:ss" });
  });

  it("reads identitytoken and returns nothing for an unknown registry", async () => {
    await writeConfig({
      auths: { "r.example": { identitytoken: "refresh-123" }, other: { auth: b64("a:b") } },
    });
    const store = new DockerCredentialStore({ configDir: dir });
    expect(await store.get("r.example")).toEqual({ identityToken: "refresh-123" });
    expect(await store.get("nope.example")).toBeUndefined();
  });

  it("honours DOCKER_CONFIG", async () => {
    await writeConfig({ auths: { "r.example": { auth: b64("u:p") } } });
    const store = new DockerCredentialStore({ env: { DOCKER_CONFIG: dir } });
    expect(store.configPath).toBe(join(dir, "config.json"));
    expect(await store.get("r.example")).toEqual({ username: "u", password: "p" });
  });

  it("writes 0600 atomically, keeps other keys, and removes on erase", async () => {
    await writeConfig({ psFormat: "table", auths: { "keep.example": { auth: b64("k:k") } } });
    const store = new DockerCredentialStore({ configDir: dir });
    const result = await store.save("docker.io", { username: "me", password: "pw" });
    expect(result).toEqual({ configPath: join(dir, "config.json"), plaintext: true });
    const st = await stat(join(dir, "config.json"));
    expect(st.mode & 0o777).toBe(0o600);
    const written = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(written.psFormat).toBe("table");
    expect(written.auths["keep.example"]).toEqual({ auth: b64("k:k") });
    expect(written.auths["https://index.docker.io/v1/"]).toEqual({ auth: b64("me:pw") });
    expect(await store.remove("docker.io")).toBe(true);
    expect(await store.remove("docker.io")).toBe(false);
    const after = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(Object.keys(after.auths)).toEqual(["keep.example"]);
  });

  it("creates the config dir when missing", async () => {
    const store = new DockerCredentialStore({ configDir: join(dir, "new", ".docker") });
    await store.save("localhost:5000", { username: "u", password: "p" });
    expect(await store.get("localhost:5000")).toEqual({ username: "u", password: "p" });
  });

  it("rejects a broken config.json with its path", async () => {
    await writeFile(join(dir, "config.json"), "{not json");
    const err = await new DockerCredentialStore({ configDir: dir }).get("x").catch((e: unknown) => e);
    expect(isRegistryError(err, "CONFIG_INVALID")).toBe(true);
    expect((err as Error).message).toContain(join(dir, "config.json"));
  });
});

describe("DockerCredentialStore with credential helpers", () => {
  it("stores, gets and erases through credsStore, leaving only an empty auths entry", async () => {
    const h = await fakeHelper();
    await writeConfig({ credsStore: "test" });
    const store = new DockerCredentialStore({ configDir: dir, env: h.env });
    const result = await store.save("localhost:5000", { username: "u", password: "helper-secret" });
    expect(result.plaintext).toBe(false);
    expect(result.helper).toBe("test");
    expect(await h.stored()).toEqual({
      "localhost:5000": { ServerURL: "localhost:5000", Username: "u", Secret: "helper-secret" },
    });
    const written = await readFile(join(dir, "config.json"), "utf8");
    expect(written).not.toContain("helper-secret");
    expect(JSON.parse(written).auths).toEqual({ "localhost:5000": {} });
    expect(await store.get("localhost:5000")).toEqual({ username: "u", password: "helper-secret" });
    expect(await store.remove("localhost:5000")).toBe(true);
    expect(await h.stored()).toEqual({});
    expect(await store.get("localhost:5000")).toBeUndefined();
  });

  it("uses credHelpers per registry and maps <token> to an identity token", async () => {
    const h = await fakeHelper();
    await writeConfig({ credHelpers: { "https://index.docker.io/v1/": "test" } });
    const store = new DockerCredentialStore({ configDir: dir, env: h.env });
    await store.save("docker.io", { identityToken: "idtok-1" });
    expect(await store.get("docker.io")).toEqual({ identityToken: "idtok-1" });
    expect(await store.helper("localhost:1")).toBeUndefined();
  });

  it.each(["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"])(
    "the keychain resolves Docker Hub as %s through its helper, and a host given as a URL",
    async (alias) => {
      const h = await fakeHelper();
      await writeConfig({ credHelpers: { "https://index.docker.io/v1/": "test", "r.example:5000": "test" } });
      const store = new DockerCredentialStore({ configDir: dir, env: h.env });
      await store.save("docker.io", { username: "hub", password: "hub-pw" });
      await store.save("r.example:5000", { username: "r", password: "r-pw" });
      expect(await store.get(alias)).toEqual({ username: "hub", password: "hub-pw" });
      expect(await store.get("https://r.example:5000/v2/")).toEqual({ username: "r", password: "r-pw" });
      expect(await store.get("other.example")).toBeUndefined();
    },
  );

  it("reports a helper failure without the secret, and a missing helper by name", async () => {
    const h = await fakeHelper();
    await writeConfig({ credsStore: "test" });
    const store = new DockerCredentialStore({ configDir: dir, env: h.env });
    const err = await store
      .save("r.example", { username: "u", password: "explode" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "CREDENTIAL_HELPER")).toBe(true);
    expect((err as Error).message).toContain("keychain locked");

    await writeConfig({ credsStore: "absent" });
    const missing = await store.get("r.example").catch((e: unknown) => e);
    expect(isRegistryError(missing, "CREDENTIAL_HELPER")).toBe(true);
    expect((missing as Error).message).toContain("docker-credential-absent not found in PATH");
  });
});
