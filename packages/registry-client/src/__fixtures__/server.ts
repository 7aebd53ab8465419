import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** Recorded is one request a fake server saw. */
export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FakeServer {
  /** origin is `http://127.0.0.1:PORT` (or https). */
  origin: string;
  /** host is `127.0.0.1:PORT`. */
  host: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage & { body: string }, res: ServerResponse) => void | Promise<void>;

/**
 * startServer runs a fault-injecting HTTP(S) server on a free loopback port;
 * the handler sees each request with its body already read.
 */
export async function startServer(
  handler: Handler,
  options: { address?: string; tls?: { cert: string; key: string } } = {},
): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      Promise.resolve(handler(Object.assign(req, { body }), res)).catch((err) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  const address = options.address ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `${address}:${port}`;
  return {
    origin: `${options.tls ? "https" : "http"}://${host}`,
    host,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** json answers with a JSON body. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** noSleep records retry delays without waiting (tests never time-assert). */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}
