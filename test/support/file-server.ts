import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** FileServer serves files on 127.0.0.1; `url` has no trailing slash. */
export interface FileServer {
  readonly url: string;
  /** requests lists the paths asked for, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * serveFiles serves each file of `files` (URL path name → file) at `/<name>`
 * on a port-0 loopback server, with Content-Length and Last-Modified as a download site sends them
 * (ADD <url> takes the file's mtime from Last-Modified); anything else is 404.
 */
export async function serveFiles(files: Record<string, string>): Promise<FileServer> {
  const byName = new Map(Object.entries(files).map(([name, file]) => [`/${name}`, file]));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    const file = byName.get(path);
    if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404).end();
      return;
    }
    stat(file).then(
      (st) => {
        res.writeHead(200, {
          "Content-Type": "application/octet-stream",
          "Content-Length": st.size,
          "Last-Modified": st.mtime.toUTCString(),
        });
        if (req.method === "HEAD") res.end();
        else createReadStream(file).pipe(res);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
