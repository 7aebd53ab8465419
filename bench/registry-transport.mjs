#!/usr/bin/env node
// bench/registry-transport.mjs — what the registry client's layers (endpoint
// ping, auth, retry, redirects, logging hooks, error mapping) cost per
// request, next to a bare undici request to the same server.
//
// A local HTTP server answers /v2/ with a Bearer challenge, /token with a
// token, and every other path with a 512-byte body. Each trial sends N
// requests at concurrency C through (a) undici.request with a keep-alive
// Agent and (b) RegistryClient.request (token cached after the first), and
// prints requests/s and the per-request overhead of the client.
//
// Usage: pnpm build && node bench/registry-transport.mjs   (env: N=5000 C=16 TRIALS=5)
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { RegistryClient } from "@tsbuild/registry-client";

// The same undici the client uses (a dependency of registry-client, not of bench).
const { Agent, request } = createRequire(
  new URL("../packages/registry-client/package.json", import.meta.url),
)("undici");

const N = Number(process.env.N ?? 5000);
const C = Number(process.env.C ?? 16);
const TRIALS = Number(process.env.TRIALS ?? 5);
const body = Buffer.alloc(512, 97);

const server = createServer((req, res) => {
  if (req.url === "/v2/" || (req.url?.startsWith("/v2/") && req.headers.authorization !== "Bearer tok")) {
    res.writeHead(401, { "www-authenticate": `Bearer realm="http://${req.headers.host}/token",service="s"` });
    return res.end();
  }
  if (req.url?.startsWith("/token")) {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ token: "tok", expires_in: 3600 }));
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
  res.end(body);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const host = `127.0.0.1:${server.address().port}`;

async function pool(fn) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        await fn(i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const agent = new Agent({ connections: C });
const bare = () =>
  pool(async (i) => {
    const res = await request(`http://${host}/v2/r/blobs/sha256:${i}`, {
      dispatcher: agent,
      headers: { authorization: "Bearer tok" },
    });
    await res.body.arrayBuffer();
  });
const client = new RegistryClient();
const viaClient = () =>
  pool(async (i) => {
    const res = await client.request({
      registry: host,
      repository: "r",
      method: "GET",
      path: `/v2/r/blobs/sha256:${i}`,
    });
    await res.bytes();
  });

await bare();
await viaClient(); // warm-up: ping, token, connections
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bareT = [];
const clientT = [];
for (let t = 0; t < TRIALS; t++) {
  bareT.push(await bare());
  clientT.push(await viaClient());
}
const b = median(bareT);
const c = median(clientT);
console.log(`requests: ${N} x ${TRIALS} trials, concurrency ${C}, 512-byte bodies over loopback HTTP`);
console.log(`undici.request         ${(N / b).toFixed(0)} req/s  (median ${b.toFixed(3)} s)`);
console.log(`RegistryClient.request ${(N / c).toFixed(0)} req/s  (median ${c.toFixed(3)} s)`);
console.log(`client overhead        ${(((c - b) / N) * 1e6).toFixed(1)} µs/request (${(c / b).toFixed(2)}x)`);
await client.close();
await agent.close();
server.close();
