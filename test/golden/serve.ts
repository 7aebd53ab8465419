import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join, normalize } from "node:path";
import { BASE_EPOCH } from "./bases.js";

/** LAST_MODIFIED is what every served file claims, so an ADD of a URL gets a known mtime. */
export const LAST_MODIFIED = new Date(BASE_EPOCH * 1000).toUTCString();

/**
 * serveDir serves the files under `dir` on 127.0.0.1 (a free port) for the
 * ADD-of-a-URL cases, which receive the base URL as the HTTP_BASE build arg.
 */
export async function serveDir(dir: string): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^(\.\.(\/|$))+/, "");
    readFile(join(dir, rel)).then(
      (body) => {
        res.writeHead(200, {
          "Content-Type": "application/octet-stream",
          "Content-Length": body.length,
          "Last-Modified": LAST_MODIFIED,
        });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  return { port: typeof addr === "object" && addr ? addr.port : 0, server };
}
