import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as builder from "@tsbuild/builder";
import { BuildError, LintConfigError, PortSpecError, parseLintConfig, parsePortSpec } from "@tsbuild/builder";
import * as cli from "@tsbuild/cli";
import * as oci from "@tsbuild/oci";
import { MediaType, OciError } from "@tsbuild/oci";
import * as registryClient from "@tsbuild/registry-client";
import { fetchManifest, RegistryClient, RegistryError } from "@tsbuild/registry-client";
import { describe, expect, it } from "vitest";

/**
 * The public surface, pinned: every runtime name each package's index exports. Adding or removing one is a
 * decision about the API: make it here too (types are not listed: they leave no runtime trace).
 */
const PINNED: Record<string, string[]> = {
  "@tsbuild/oci": [
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "ImageStore",
    "MediaType",
    "OCI_LAYOUT_VERSION",
    "OciError",
    "OciLayout",
    "Reference",
    "append",
    "applyLayer",
    "archiveImages",
    "archiveSink",
    "builtImage",
    "canonicalJson",
    "canonicalJsonString",
    "chainIds",
    "comparePaths",
    "copyImage",
    "createLayer",
    "defaultStoreRoot",
    "digestAlgorithm",
    "digestHex",
    "digestOf",
    "digestOfStream",
    "directoryLayer",
    "emptyImage",
    "entryDiskSize",
    "familiarString",
    "formatPlatform",
    "fsPath",
    "hostPlatform",
    "imageConfigFromJson",
    "imageFromParts",
    "isDigest",
    "isForeignLayer",
    "isIndexMediaType",
    "isManifestMediaType",
    "isOciError",
    "isSchema1MediaType",
    "isValidTag",
    "layerCompression",
    "layoutImage",
    "layoutSink",
    "locateError",
    "manifestAccept",
    "matchPlatform",
    "mutateConfig",
    "newImage",
    "normalizePlatform",
    "parseDescriptor",
    "parseDigest",
    "parseImageConfig",
    "parseIndex",
    "parseManifest",
    "parseManifestOrIndex",
    "parsePlatform",
    "parseReference",
    "parseStrictReference",
    "pathFromBytes",
    "pathToBytes",
    "readArchive",
    "readLayerEntries",
    "readableOf",
    "selectPlatform",
    "sniffCompression",
    "storeImage",
    "storeSink",
    "tarEntries",
    "tarLayer",
    "verified",
    "verifyDigest",
    "walkDirectory",
    "withFileLock",
    "writeArchive",
    "writeDockerArchive",
    "writeFileAtomic",
    "writeLayerTo",
  ],
  "@tsbuild/registry-client": [
    "BlobSources",
    "CONFIG_SIZE_LIMIT",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_CHUNK_THRESHOLD",
    "DEFAULT_TIMEOUTS",
    "DEFAULT_USER_AGENT",
    "DOCKER_HUB",
    "DOCKER_HUB_API_HOST",
    "DOCKER_HUB_AUTH_KEY",
    "DockerCredentialStore",
    "MANIFEST_SIZE_LIMIT",
    "RegistryClient",
    "RegistryError",
    "StaticCredentials",
    "TIMEOUT_SETTINGS",
    "TIMEOUT_SETTING_NAMES",
    "blobFetcher",
    "blobSize",
    "copy",
    "createRegistryClient",
    "credentialKey",
    "dockerConfigDir",
    "fetchManifest",
    "headManifest",
    "isDockerHub",
    "isRegistryError",
    "loadRegistrySettings",
    "normalizeRegistry",
    "pullImage",
    "pushImage",
    "pushIndex",
    "putManifest",
    "readBlob",
    "redactHeaders",
    "redactText",
    "redactUrl",
    "registerSecret",
    "registrySink",
    "resolveImage",
    "tsbuildConfigFile",
    "uploadBlob",
  ],
  "@tsbuild/builder": [
    "ALL_RULES",
    "BuildCache",
    "BuildError",
    "CACHE_CONFIG_TYPE",
    "DockerfileError",
    "INLINE_CACHE_FIELD",
    "IgnorePatternError",
    "LintConfigError",
    "Linter",
    "PatternMatcher",
    "PortSpecError",
    "RunFailedError",
    "SandboxError",
    "ShellExpansionError",
    "ShellLex",
    "UnpackedLayers",
    "build",
    "checkDockerfile",
    "checkRunSupport",
    "currentIdentity",
    "envsFromMap",
    "envsFromSlice",
    "findIgnoreFile",
    "foldChanges",
    "foldPlan",
    "formatCheckReport",
    "formatWarning",
    "isBuildError",
    "isDockerfileError",
    "parse",
    "parseCacheFrom",
    "parseCacheTo",
    "parseDockerfile",
    "parseGoDuration",
    "parseIgnoreFile",
    "parseLintConfig",
    "parsePortSpec",
    "planBuild",
    "probeSnapshotter",
    "runImage",
    "runStep",
    "selectBuildContext",
    "unusedBuildArgsWarning",
    "walkContext",
  ],
  "@tsbuild/cli": ["run"],
};

const MODULES: Record<string, object> = {
  "@tsbuild/oci": oci,
  "@tsbuild/registry-client": registryClient,
  "@tsbuild/builder": builder,
  "@tsbuild/cli": cli,
};

describe("public surface", () => {
  it.each(Object.keys(PINNED))("%s exports exactly its pinned names", (name) => {
    expect(Object.keys(MODULES[name]!).sort()).toEqual(PINNED[name]);
  });

  it("has no parser internals or dead exports", () => {
    for (const gone of ["goQuote", "dumpNode", "dump", "parseWords", "resolveMounts"]) {
      expect(builder).not.toHaveProperty(gone);
    }
    expect(oci).not.toHaveProperty("DigestingStream");
    expect(oci).not.toHaveProperty("crc32");
    expect(registryClient).not.toHaveProperty("hasSecret");
  });
});

describe("public errors are their package's error class, with a stable code", () => {
  it("LintConfigError and PortSpecError are BuildErrors", () => {
    const lint = (() => {
      try {
        parseLintConfig("skip=A;error=maybe");
      } catch (err) {
        return err;
      }
    })();
    expect(lint).toBeInstanceOf(LintConfigError);
    expect(lint).toBeInstanceOf(BuildError);
    expect(lint).toMatchObject({ code: "INVALID_DIRECTIVE", name: "LintConfigError" });
    const port = (() => {
      try {
        parsePortSpec("80/sctpx");
      } catch (err) {
        return err;
      }
    })();
    expect(port).toBeInstanceOf(PortSpecError);
    expect(port).toBeInstanceOf(BuildError);
    expect(port).toMatchObject({ code: "INVALID_ARGUMENTS", name: "PortSpecError" });
  });

  it("fetchManifest throws RegistryErrors for a manifest that does not parse or does not match its digest", async () => {
    const good = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest }));
    const server = createServer((req, res) => {
      res.setHeader("content-type", MediaType.OciManifest);
      if (req.url?.endsWith("/notjson")) res.end("{not json");
      else {
        res.setHeader("docker-content-digest", `sha256:${"0".repeat(64)}`);
        res.end(good);
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RegistryClient({ retry: { attempts: 1 } });
    try {
      for (const [reference, code] of [
        ["notjson", "MANIFEST_INVALID"],
        ["swapped", "DIGEST_INVALID"],
      ] as const) {
        const err = await fetchManifest(client, { registry: host, repository: "me/app", reference }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(RegistryError);
        expect(err).not.toBeInstanceOf(OciError);
        expect(err).toMatchObject({ code });
      }
    } finally {
      await client.close();
      server.close();
    }
  });
});
