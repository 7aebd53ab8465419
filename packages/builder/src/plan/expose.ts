import { BuildError } from "../errors.js";
/**
 * Port specs of EXPOSE, as BuildKit's convert_expose.go reads them: `[ip:][hostPort:]port[-end][/proto]`,
 * giving the image config's `ExposedPorts` keys (`80/tcp`, one per port of a range). IP addresses and
 * host ports are accepted (and flagged by ExposeInvalidFormat); a bad spec is an error.
 */

/** PortSpecError is a malformed EXPOSE port (code INVALID_ARGUMENTS); the caller adds the position. */
export class PortSpecError extends BuildError {
  override readonly name = "PortSpecError";
  constructor(message: string) {
    super("INVALID_ARGUMENTS", message);
  }
}

/** PortSpec is one parsed EXPOSE word. */
export interface PortSpec {
  raw: string;
  /** ports are the image config keys this word exposes (`8000/tcp`, `8001/tcp`…). */
  ports: string[];
  /** protoCaseWrong is true when the protocol is not lower-case (ExposeProtoCasing). */
  protoCaseWrong: boolean;
  /** hasMapping is true when an IP or host port is given (ExposeInvalidFormat). */
  hasMapping: boolean;
}

function splitParts(raw: string): [ip: string, hostPort: string, containerPort: string] {
  const parts = raw.split(":");
  if (parts.length === 1) return ["", "", parts[0]!];
  if (parts.length === 2) return ["", parts[0]!, parts[1]!];
  const n = parts.length;
  return [parts.slice(0, n - 2).join(":"), parts[n - 2]!, parts[n - 1]!];
}

function portNumber(raw: string): number {
  if (raw === "") throw new PortSpecError("value is empty");
  if (!/^[+-]?\d+$/.test(raw)) throw new PortSpecError("invalid syntax");
  const n = Number(raw);
  if (n < 0 || n > 65535) throw new PortSpecError("value out of range (0–65535)");
  return n;
}

function portRange(raw: string): [number, number] {
  if (raw === "") throw new PortSpecError("empty string specified for ports");
  const dash = raw.indexOf("-");
  const start = dash < 0 ? raw : raw.slice(0, dash);
  const end = dash < 0 ? "" : raw.slice(dash + 1);
  const first = portNumber(start);
  if (dash < 0 || start === end) return [first, first];
  const last = portNumber(end);
  if (last < first) throw new PortSpecError(`invalid port range: ${raw}`);
  return [first, last];
}

function isIP(ip: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(ip))
    return ip.split(".").every((p) => Number(p) <= 255);
  return /^[0-9A-Fa-f:.]+$/.test(ip) && ip.includes(":");
}

/** parsePortSpec reads one EXPOSE word; throws PortSpecError with BuildKit's message. */
export function parsePortSpec(raw: string): PortSpec {
  let [ip, hostPort, containerPort] = splitParts(raw);
  const slash = containerPort.indexOf("/");
  const port = slash < 0 ? containerPort : containerPort.slice(0, slash);
  let proto = slash < 0 ? "" : containerPort.slice(slash + 1);
  if (port === "") throw new PortSpecError(`invalid port: ${JSON.stringify(raw)}: no port specified`);
  const lower = proto.toLowerCase();
  if (lower === "") proto = "tcp";
  else if (lower !== "tcp" && lower !== "udp" && lower !== "sctp") {
    throw new PortSpecError(`invalid port: ${JSON.stringify(raw)}: invalid proto: ${proto}`);
  }
  containerPort = port;
  if (ip.startsWith("[")) {
    const close = ip.indexOf("]");
    if (close < 0) throw new PortSpecError(`invalid IP address ${ip}`);
    ip = ip.slice(1, close);
  }
  if (ip !== "" && !isIP(ip)) throw new PortSpecError(`invalid IP address: ${ip}`);
  let start: number;
  let end: number;
  try {
    [start, end] = portRange(containerPort);
  } catch {
    throw new PortSpecError(`invalid containerPort: ${containerPort}`);
  }
  if (hostPort !== "") {
    let hs: number;
    let he: number;
    try {
      [hs, he] = portRange(hostPort);
    } catch {
      throw new PortSpecError(`invalid hostPort: ${hostPort}`);
    }
    if (end - start !== he - hs && end !== start) {
      throw new PortSpecError(
        `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
  }
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto.toLowerCase()}`);
  return {
    raw,
    ports,
    protoCaseWrong: proto !== proto.toLowerCase(),
    hasMapping: ip !== "" || hostPort !== "",
  };
}
