import { describe, expect, it } from "vitest";
import { parsePortSpec } from "./expose.js";

describe("parsePortSpec", () => {
  it.each([
    ["80", ["80/tcp"], false, false],
    ["53/udp", ["53/udp"], false, false],
    ["8000-8002/TCP", ["8000/tcp", "8001/tcp", "8002/tcp"], true, false],
    ["8080:80", ["80/tcp"], false, true],
    ["127.0.0.1:8080:80/sctp", ["80/sctp"], false, true],
    ["[::1]:8080:80", ["80/tcp"], false, true],
    ["7-7", ["7/tcp"], false, false],
  ])("%s", (raw, ports, protoCaseWrong, hasMapping) => {
    expect(parsePortSpec(raw)).toEqual({ raw, ports, protoCaseWrong, hasMapping });
  });

  it.each([
    ["abc", "invalid containerPort: abc"],
    ["70000", "invalid containerPort: 70000"],
    ["90-80", "invalid containerPort: 90-80"],
    ["80/xyz", 'invalid port: "80/xyz": invalid proto: xyz'],
    ["/tcp", 'invalid port: "/tcp": no port specified'],
    ["x:80", "invalid hostPort: x"],
    ["1.2.3.999:1:80", "invalid IP address: 1.2.3.999"],
    ["8080-8081:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8080-8081"],
  ])("rejects %s", (raw, message) => {
    expect(() => parsePortSpec(raw)).toThrow(message);
  });
});
