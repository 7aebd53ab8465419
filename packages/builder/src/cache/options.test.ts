import { describe, expect, it } from "vitest";
import { parseCacheFrom, parseCacheTo } from "./options.js";

describe("--cache-from / --cache-to values", () => {
  it.each([
    ["reg:5000/app/cache:main", { type: "registry", ref: "reg:5000/app/cache:main" }],
    ["type=registry,ref=reg/app:c", { type: "registry", ref: "reg/app:c" }],
    ["type=local,src=/ci/cache", { type: "local", src: "/ci/cache" }],
    ["type=local,src=/ci/cache,tag=pr-1", { type: "local", src: "/ci/cache", tag: "pr-1" }],
  ])("--cache-from %s", (value, want) => expect(parseCacheFrom(value)).toEqual(want));

  it.each([
    ["type=registry,ref=reg/app:c", { type: "registry", ref: "reg/app:c" }],
    ["type=registry,ref=reg/app:c,mode=max", { type: "registry", ref: "reg/app:c", mode: "max" }],
    ["type=local,dest=/ci/cache,mode=min", { type: "local", dest: "/ci/cache", mode: "min" }],
    ["type=inline", { type: "inline" }],
  ])("--cache-to %s", (value, want) => expect(parseCacheTo(value)).toEqual(want));

  it.each([
    ["type=s3,ref=x", /unknown type "s3"/],
    ["type=registry", /needs ref=/],
    ["type=local", /needs dest=/],
    ["type=registry,ref=r,mode=all", /mode must be min or max/],
    ["type=registry,ref", /is not KEY=VALUE/],
  ])("--cache-to %s is refused", (value, message) => expect(() => parseCacheTo(value)).toThrow(message));
});
