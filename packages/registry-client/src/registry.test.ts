import { describe, expect, it } from "vitest";
import { apiHost, credentialKey, hostOf, isLoopback, normalizeRegistry, splitHostPort } from "./registry.js";

describe("registry host mapping", () => {
  it.each([
    // input, normalized, API host, config.json key
    ["docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"],
    ["index.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"],
    ["registry-1.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"],
    ["https://index.docker.io/v1/", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"],
    ["localhost:5000", "localhost:5000", "localhost:5000", "localhost:5000"],
    [
      "https://Registry.Example.com:8443/v2/",
      "registry.example.com:8443",
      "registry.example.com:8443",
      "registry.example.com:8443",
    ],
    ["ghcr.io", "ghcr.io", "ghcr.io", "ghcr.io"],
  ])("%s", (input, normalized, api, key) => {
    expect(normalizeRegistry(input)).toBe(normalized);
    expect(apiHost(input)).toBe(api);
    expect(credentialKey(input)).toBe(key);
  });

  it("strips scheme and path like docker's ConvertToHostname", () => {
    expect(hostOf("http://r:1/x/y")).toBe("r:1");
    expect(hostOf("r")).toBe("r");
  });

  it.each([
    ["[::1]:5000", "::1", "5000"],
    ["host:80", "host", "80"],
    ["host", "host", undefined],
    ["::1", "::1", undefined],
  ])("splitHostPort(%s)", (input, host, port) => {
    expect(splitHostPort(input)).toEqual({ host, port });
  });

  it.each([
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.2:80", true],
    ["[::1]:5000", true],
    ["128.0.0.1", false],
    ["localhost.example.com", false],
    ["docker.io", false],
  ])("isLoopback(%s) = %s", (host, want) => {
    expect(isLoopback(host)).toBe(want);
  });
});
