import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * CountingProxy forwards every request to a registry and logs `METHOD path`
 * (and `?query` for POSTs, where mounts are asked for), to count what a
 * client asked for.
 */
export interface CountingProxy {
  /** host is `127.0.0.1:PORT`, as image names spell it. */
  readonly host: string;
  readonly log: string[];
  /** traffic is one entry per request: its log line, the body bytes sent up and the response bytes sent back. */
  readonly traffic: { line: string; up: number; down: number }[];
  /**
   * onRequest, when set, sees each log line before the request is forwarded (to inject faults);
   * answering "drop" cuts the client's connection instead of forwarding.
   */
  onRequest: ((line: string) => Promise<"drop" | undefined> | "drop" | undefined) | undefined;
  /** loseBlobs: answer every blob GET 404 BLOB_UNKNOWN, as a registry that lost the data would. */
  loseBlobs: boolean;
  /** corruptBlobs: flip the first byte of every blob a GET returns (same length), as a lying registry would. */
  corruptBlobs: boolean;
  /** blobGets are the GETs of blobs (`/v2/<repo>/blobs/<digest>`) so far. */
  blobGets(): string[];
  close(): Promise<void>;
}

/** startCountingProxy listens on a free port and forwards to `target` (`http://127.0.0.1:PORT`). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const log: string[] = [];
  const traffic: CountingProxy["traffic"] = [];
  let lose = false;
  let corrupt = false;
  const proxy = { onRequest: undefined as CountingProxy["onRequest"] };
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const line = req.method === "POST" ? `POST ${req.url}` : `${req.method} ${path}`;
    log.push(line);
    const t = { line, up: 0, down: 0 };
    traffic.push(t);
    // Counted and forwarded from the same tick: a body that arrived during onRequest waits in the stream.
    if (proxy.onRequest && (await proxy.onRequest(line)) === "drop") {
      req.socket.destroy();
      return;
    }
    req.on("data", (c: Buffer) => {
      t.up += c.length;
    });
    if (lose && req.method === "GET" && /\/blobs\/sha256:/.test(path)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }));
      return;
    }
    const up = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (r) => {
        // Locations the registry returns point at itself; clients follow them through the proxy.
        const headers = { ...r.headers };
        if (typeof headers.location === "string")
          headers.location = headers.location.replace(to.host, req.headers.host ?? to.host);
        res.writeHead(r.statusCode ?? 502, headers);
        let first = corrupt && req.method === "GET" && r.statusCode === 200 && /\/blobs\/sha256:/.test(path);
        r.on("data", (c: Buffer) => {
          t.down += c.length;
          // The same Buffer reaches the pipe below: the first byte goes out flipped.
          if (first && c.length > 0) {
            c[0] = (c[0] ?? 0) ^ 0xff;
            first = false;
          }
        });
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    traffic,
    get onRequest() {
      return proxy.onRequest;
    },
    set onRequest(f) {
      proxy.onRequest = f;
    },
    get loseBlobs() {
      return lose;
    },
    set loseBlobs(v: boolean) {
      lose = v;
    },
    get corruptBlobs() {
      return corrupt;
    },
    set corruptBlobs(v: boolean) {
      corrupt = v;
    },
    blobGets: () => log.filter((l) => /^GET \/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/.test(l)),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
