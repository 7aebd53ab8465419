import { describe, expect, it } from "vitest";
import { isOciError } from "./errors.js";
import { familiarString, isValidTag, parseReference, parseStrictReference } from "./reference.js";

const F64 = "f".repeat(64);
const SHA = `sha256:${F64}`;
const SHA512 = `sha512:${"f".repeat(128)}`;

function expectInvalid(fn: () => unknown, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isOciError(err, "INVALID_REFERENCE")).toBe(true);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error("expected INVALID_REFERENCE");
}

// Cases of distribution/reference reference_test.go TestReferenceParse (grammar, no normalisation).
describe("parseStrictReference (distribution grammar)", () => {
  const ok: [input: string, registry: string, name: string, tag?: string, digest?: string][] = [
    ["test_com", "", "test_com"],
    ["test.com:tag", "", "test.com", "tag"],
    ["test.com:5000", "", "test.com", "5000"],
    ["test.com/repo:tag", "test.com", "test.com/repo", "tag"],
    ["test:5000/repo", "test:5000", "test:5000/repo"],
    ["test:5000/repo:tag", "test:5000", "test:5000/repo", "tag"],
    [`test:5000/repo@${SHA}`, "test:5000", "test:5000/repo", undefined, SHA],
    [`test:5000/repo:tag@${SHA}`, "test:5000", "test:5000/repo", "tag", SHA],
    ["lowercase:Uppercase", "", "lowercase", "Uppercase"],
    [`${"a/".repeat(127)}a:tag-puts-this-over-max`, "a", `${"a/".repeat(127)}a`, "tag-puts-this-over-max"],
    ["sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "sub-dom1.foo.com/bar/baz/quux"],
    [
      "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
      "sub-dom1.foo.com",
      "sub-dom1.foo.com/bar/baz/quux",
      "some-long-tag",
    ],
    [
      "b.gcr.io/test.example.com/my-app:test.example.com",
      "b.gcr.io",
      "b.gcr.io/test.example.com/my-app",
      "test.example.com",
    ],
    ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "xn--n3h.com/myimage", "xn--n3h.com"],
    [
      `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`,
      "xn--7o8h.com",
      "xn--7o8h.com/myimage",
      "xn--7o8h.com",
      SHA512,
    ],
    ["foo_bar.com:8080", "", "foo_bar.com", "8080"],
    ["foo/foo_bar.com:8080", "foo", "foo/foo_bar.com", "8080"],
    ["192.168.1.1", "", "192.168.1.1"],
    ["192.168.1.1:tag", "", "192.168.1.1", "tag"],
    ["192.168.1.1:5000", "", "192.168.1.1", "5000"],
    ["192.168.1.1/repo", "192.168.1.1", "192.168.1.1/repo"],
    ["192.168.1.1:5000/repo", "192.168.1.1:5000", "192.168.1.1:5000/repo"],
    ["192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "192.168.1.1:5000/repo", "5050"],
    ["[2001:db8::1]/repo", "[2001:db8::1]", "[2001:db8::1]/repo"],
    ["[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "[2001:db8:1:2:3:4:5:6]/repo", "tag"],
    ["[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo"],
    ["[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "tag"],
    [`[2001:db8::1]:5000/repo@${SHA}`, "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", undefined, SHA],
    [`[2001:db8::1]:5000/repo:tag@${SHA}`, "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "tag", SHA],
    ["[2001:db8::]:5000/repo", "[2001:db8::]:5000", "[2001:db8::]:5000/repo"],
    ["[::1]:5000/repo", "[::1]:5000", "[::1]:5000/repo"],
  ];
  it.each(ok)("%s", (input, registry, name, tag, digest) => {
    const ref = parseStrictReference(input);
    expect(ref.toString()).toBe(input);
    expect(ref.registry).toBe(registry);
    expect(ref.name).toBe(name);
    expect(ref.tag).toBe(tag);
    expect(ref.digest).toBe(digest);
  });

  const bad: [input: string, message: RegExp][] = [
    ["", /at least one component/],
    [":justtag", /missing repository name/],
    [`@${SHA}`, /missing repository name/],
    ["repo@sha256:ffffffffffffffffffffffffffffffffff", /64 lowercase hex/],
    [`validname@invaliddigest:${F64}`, /unsupported/],
    ["Uppercase:tag", /lowercase/],
    ["test:5000/Uppercase/lowercase:tag", /lowercase/],
    [`${"a/".repeat(128)}a:tag`, /255 characters/],
    ["aa/asdf$$^/aa", /invalid repository name "aa\/asdf\$\$\^\/aa"/],
    ["[2001:db8::1]", /invalid repository name/],
    ["[2001:db8::1]:5000", /invalid repository name/],
    ["[2001:db8::1]:tag", /invalid repository name/],
    ["[fe80::1%eth0]:5000/repo", /invalid repository name/],
    ["[fe80::1%@invalidzone]:5000/repo", /invalid repository name/],
  ];
  it.each(bad)("rejects %j", (input, message) => expectInvalid(() => parseStrictReference(input), message));
});

describe("parseReference (docker normalisation)", () => {
  const cases: [input: string, full: string, familiar: string][] = [
    ["nginx", "docker.io/library/nginx:latest", "nginx:latest"],
    ["nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"],
    [
      "fhsinchy/custom-nginx:latest",
      "docker.io/fhsinchy/custom-nginx:latest",
      "fhsinchy/custom-nginx:latest",
    ],
    ["custom-nginx:packaged", "docker.io/library/custom-nginx:packaged", "custom-nginx:packaged"],
    ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
    ["localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"],
    ["127.0.0.1:5055/a/b:c", "127.0.0.1:5055/a/b:c", "127.0.0.1:5055/a/b:c"],
    [`name@${SHA}`, `docker.io/library/name@${SHA}`, `name@${SHA}`],
    [`name:tag@${SHA}`, `docker.io/library/name:tag@${SHA}`, `name:tag@${SHA}`],
    [
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
      "docker.io/library/busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
    ],
    ["docker.io/library/nginx:latest", "docker.io/library/nginx:latest", "nginx:latest"],
    ["docker.io/nginx", "docker.io/library/nginx:latest", "nginx:latest"],
    ["index.docker.io/library/debian", "docker.io/library/debian:latest", "debian:latest"],
    ["index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest"],
    ["library/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"],
    ["library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest"],
    ["store/foo/bar", "docker.io/store/foo/bar:latest", "store/foo/bar:latest"],
    ["other/library", "docker.io/other/library:latest", "other/library:latest"],
    ["test_com/foo", "docker.io/test_com/foo:latest", "test_com/foo:latest"],
    ["test.com:8080/foo", "test.com:8080/foo:latest", "test.com:8080/foo:latest"],
    ["test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080/foo:latest"],
    ["xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest", "xn--n3h.com:18080/foo:latest"],
    [
      "example.com/private/moonbase",
      "example.com/private/moonbase:latest",
      "example.com/private/moonbase:latest",
    ],
    ["192.168.0.1", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest"],
    ["192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80"],
    [
      "[fc00::1]:5000/docker/docker",
      "[fc00::1]:5000/docker/docker:latest",
      "[fc00::1]:5000/docker/docker:latest",
    ],
    ["Foo/bar", "Foo/bar:latest", "Foo/bar:latest"],
    ["DOCKER/docker", "DOCKER/docker:latest", "DOCKER/docker:latest"],
    [
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
    ],
    [
      `docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a`,
      "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
    ],
    ["docker-rules/docker", "docker.io/docker-rules/docker:latest", "docker-rules/docker:latest"],
    ["docker---rules/docker", "docker.io/docker---rules/docker:latest", "docker---rules/docker:latest"],
    ["d/docker", "docker.io/d/docker:latest", "d/docker:latest"],
    ["dock__er/docker", "docker.io/dock__er/docker:latest", "dock__er/docker:latest"],
  ];
  it.each(cases)("%s → %s", (input, full, familiar) => {
    const ref = parseReference(input);
    expect(ref.toString()).toBe(full);
    expect(ref.familiarString()).toBe(familiar);
    expect(parseReference(full).toString()).toBe(full);
    expect(familiarString(full)).toBe(familiar);
  });

  it("splits registry, repository, tag and digest", () => {
    const ref = parseReference(`127.0.0.1:5055/a/b:c@${SHA}`);
    expect(ref).toMatchObject({ registry: "127.0.0.1:5055", repository: "a/b", tag: "c", digest: SHA });
    expect(ref.name).toBe("127.0.0.1:5055/a/b");
    expect(ref.familiarName).toBe("127.0.0.1:5055/a/b");
    expect(parseReference("nginx").familiarName).toBe("nginx");
    expect(parseReference("nginx").repository).toBe("library/nginx");
    expect(JSON.stringify({ r: parseReference("nginx") })).toBe('{"r":"docker.io/library/nginx:latest"}');
  });

  it("adds no default tag to a digest reference or when asked not to", () => {
    expect(parseReference(`nginx@${SHA}`).tag).toBeUndefined();
    expect(parseReference("nginx", { defaultTag: false }).toString()).toBe("docker.io/library/nginx");
  });

  it("with/without tag and digest", () => {
    const ref = parseReference("nginx");
    expect(ref.withTag("1.0").toString()).toBe("docker.io/library/nginx:1.0");
    expect(ref.withDigest(SHA).withoutTag().toString()).toBe(`docker.io/library/nginx@${SHA}`);
    expect(ref.withDigest(SHA).withoutDigest().toString()).toBe("docker.io/library/nginx:latest");
    expect(ref.equals(parseReference("docker.io/library/nginx:latest"))).toBe(true);
    expectInvalid(() => ref.withTag("-foo"), /tag/);
    expectInvalid(() => ref.withDigest("foo"));
  });

  const bad: [input: string, message: RegExp][] = [
    ["", /at least one component/],
    ["https://github.com/docker/docker", /./],
    ["docker/Docker", /must be lowercase/],
    ["Uppercase", /must be lowercase/],
    ["NGINX:latest", /must be lowercase/],
    ["-docker", /./],
    ["-docker/docker", /./],
    ["-docker.io/docker/docker", /./],
    ["docker///docker", /./],
    ["docker.io/docker/Docker", /must be lowercase/],
    ["docker.io/docker///docker", /./],
    ["[fc00::1]", /./],
    ["[fc00::1]:5000", /./],
    ["fc00::1:5000/debian", /./],
    ["[fe80::1%eth0]:5000/debian", /./],
    ["[2001:db8:3:4::192.0.2.33]:5000/debian", /./],
    ["1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", /64-byte hexadecimal/],
    ["docker-/docker", /./],
    ["-docker-/docker", /./],
    ["____/____", /./],
    ["_docker/_docker", /./],
    ["dock..er/docker", /./],
    ["dock_.er/docker", /./],
    ["dock-.er/docker", /./],
    ["docker/", /./],
    [`${"this_is_not_a_valid_namespace_".repeat(9)}/docker`, /./],
    [`${"abcdefghij".repeat(26)}/docker`, /255 characters/],
    ["nginx:-bad", /invalid tag "-bad"/],
    [`nginx:${"a".repeat(129)}`, /invalid tag/],
    ["nginx@sha256:abc", /invalid digest "sha256:abc"/],
    ["nginx:1.0 ", /invalid tag "1.0 "/],
    ["my image", /invalid repository name/],
    [`nginx@sha256:${"F".repeat(64)}`, /lowercase hex/],
    [`nginx@md5:${F64}`, /unsupported/],
    ["localhost:5000/A", /must be lowercase/],
  ];
  it.each(bad)("rejects %j", (input, message) => expectInvalid(() => parseReference(input), message));

  it("puts the input in the error", () => {
    expectInvalid(() => parseReference("docker/Docker"), /"docker\/Docker"/);
  });

  it("caps names at 255 characters, domain included", () => {
    const name = `example.com/${"b".repeat(100)}/${"c".repeat(142)}`;
    expect(parseReference(name).name.length).toBe(255);
    expectInvalid(() => parseReference(`${name}c`), /255/);
  });
});

describe("isValidTag", () => {
  it.each([
    ["latest", true],
    ["v1.0_rc-2", true],
    ["_x", true],
    [".x", false],
    ["-x", false],
    ["a".repeat(128), true],
    ["a".repeat(129), false],
    ["", false],
    ["a/b", false],
  ] as const)("%s → %s", (tag, valid) => expect(isValidTag(tag)).toBe(valid));
});
