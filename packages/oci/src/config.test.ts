import { describe, expect, it } from "vitest";
import { parseImageConfig } from "./config.js";
import { OciError, type OciErrorCode } from "./errors.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const minimal = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [D("a")] } };
const full = {
  created: "2024-05-06T07:08:09.123456789Z",
  author: "someone",
  architecture: "arm64",
  variant: "v8",
  os: "linux",
  config: {
    User: "1000:1000",
    ExposedPorts: { "80/tcp": {} },
    Env: ["PATH=/usr/bin", "A=b"],
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: ["echo hi"],
    Volumes: { "/data": {} },
    WorkingDir: "/app",
    Labels: { "org.label": "x" },
    StopSignal: "SIGTERM",
    ArgsEscaped: true,
    Healthcheck: { Test: ["CMD", "true"], Interval: 30_000_000_000, Retries: 3 },
    OnBuild: ["RUN x"],
    Shell: ["/bin/bash", "-c"],
  },
  rootfs: { type: "layers", diff_ids: [D("a"), D("b")] },
  history: [
    { created: "2024-05-06T07:08:09Z", created_by: "/bin/sh -c #(nop) ADD file:abc in /", comment: "c" },
    { created: "2024-05-06T07:08:09+02:00", created_by: "CMD", empty_layer: true, author: "a" },
  ],
};
const j = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("parseImageConfig", () => {
  it("reads a minimal and a full config", () => {
    expect(parseImageConfig(j(minimal))).toEqual(minimal);
    expect(parseImageConfig(j(full))).toEqual(full);
  });

  it("reads Docker's config with nulls and legacy members", () => {
    const docker = {
      ...minimal,
      container: "abc",
      docker_version: "20.10",
      container_config: { Hostname: "x" },
      config: {
        Hostname: "",
        AttachStdin: false,
        Env: null,
        Cmd: null,
        Entrypoint: null,
        OnBuild: null,
        Labels: null,
        Volumes: null,
        ExposedPorts: { "53/udp": null },
        Image: "sha256:abc",
      },
      history: null,
      rootfs: { type: "layers", diff_ids: null },
    };
    expect(parseImageConfig(j(docker))).toEqual({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: null, Entrypoint: null, OnBuild: null, ExposedPorts: { "53/udp": {} } },
      rootfs: { type: "layers", diff_ids: [] },
    });
  });

  const bad: [string, unknown, OciErrorCode, string][] = [
    ["not JSON", "{", "INVALID_JSON", "config is not valid JSON"],
    ["an array", [], "INVALID_CONFIG", "config: expected an object, got an array"],
    [
      "no architecture",
      { ...minimal, architecture: undefined },
      "INVALID_CONFIG",
      "config.architecture: required field is missing",
    ],
    ["empty os", { ...minimal, os: "" }, "INVALID_CONFIG", "config.os: must not be empty"],
    [
      "no rootfs",
      { ...minimal, rootfs: undefined },
      "INVALID_CONFIG",
      "config.rootfs: required field is missing",
    ],
    [
      "rootfs type",
      { ...minimal, rootfs: { type: "layer", diff_ids: [] } },
      "INVALID_CONFIG",
      'config.rootfs.type: expected "layers", got "layer"',
    ],
    [
      "diff_ids missing",
      { ...minimal, rootfs: { type: "layers" } },
      "INVALID_CONFIG",
      "config.rootfs.diff_ids: required field is missing",
    ],
    [
      "diff_id bad",
      { ...minimal, rootfs: { type: "layers", diff_ids: [D("a"), "sha256:zz"] } },
      "INVALID_DIGEST",
      "config.rootfs.diff_ids[1]",
    ],
    [
      "created bad",
      { ...minimal, created: "yesterday" },
      "INVALID_CONFIG",
      'config.created: expected an RFC 3339 timestamp like 2024-01-02T03:04:05Z, got "yesterday"',
    ],
    [
      "Env not array",
      { ...minimal, config: { Env: "A=b" } },
      "INVALID_CONFIG",
      "config.config.Env: expected an array of strings",
    ],
    [
      "Env item",
      { ...minimal, config: { Env: ["A=b", 3] } },
      "INVALID_CONFIG",
      "config.config.Env[1]: expected a string, got a number (3)",
    ],
    [
      "Labels value",
      { ...minimal, config: { Labels: { a: true } } },
      "INVALID_CONFIG",
      'config.config.Labels["a"]: expected a string',
    ],
    [
      "ExposedPorts list",
      { ...minimal, config: { ExposedPorts: ["80/tcp"] } },
      "INVALID_CONFIG",
      "config.config.ExposedPorts: expected an object",
    ],
    [
      "Healthcheck interval",
      { ...minimal, config: { Healthcheck: { Interval: -1 } } },
      "INVALID_CONFIG",
      "config.config.Healthcheck.Interval: must be at least 0",
    ],
    [
      "ArgsEscaped",
      { ...minimal, config: { ArgsEscaped: "yes" } },
      "INVALID_CONFIG",
      "config.config.ArgsEscaped: expected true or false",
    ],
    [
      "history not array",
      { ...minimal, history: {} },
      "INVALID_CONFIG",
      "config.history: expected an array, got an object",
    ],
    [
      "history empty_layer",
      { ...minimal, history: [{}, { empty_layer: "true" }] },
      "INVALID_CONFIG",
      "config.history[1].empty_layer: expected true or false",
    ],
    [
      "history created",
      { ...minimal, history: [{ created: "2024-01-01" }] },
      "INVALID_CONFIG",
      "config.history[0].created: expected an RFC 3339",
    ],
  ];
  it.each(bad)("rejects %s", (_n, value, code, message) => {
    try {
      parseImageConfig(typeof value === "string" ? value : j(value));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OciError);
      expect((err as OciError).code).toBe(code);
      expect((err as Error).message).toContain(message);
    }
  });
});
