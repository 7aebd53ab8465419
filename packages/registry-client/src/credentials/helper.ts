import { spawn } from "node:child_process";
import { RegistryError } from "../errors.js";
import { redactText, registerSecret } from "../redact.js";
import type { Credential } from "./store.js";

/** HelperOptions tell how to run `docker-credential-<name>`. */
export interface HelperOptions {
  env?: NodeJS.ProcessEnv;
  /** timeoutMs bounds one helper call (default 60 s: some helpers prompt a keychain UI). */
  timeoutMs?: number;
}

const NOT_FOUND = /credentials not found/i;

interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runHelper(name: string, action: string, input: string, o: HelperOptions): Promise<HelperResult> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], {
      env: o.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: o.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e: NodeJS.ErrnoException) => {
      const why =
        e.code === "ENOENT"
          ? `${program} not found in PATH (configured by credsStore/credHelpers)`
          : e.message;
      reject(new RegistryError("CREDENTIAL_HELPER", `credential helper: ${why}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.on("error", () => {
      // The helper exited without reading stdin; its exit status tells the story.
    });
    child.stdin.end(input);
  });
}

function failure(name: string, action: string, r: HelperResult): RegistryError {
  const detail = redactText((r.stdout.trim() || r.stderr.trim()).slice(0, 300));
  return new RegistryError(
    "CREDENTIAL_HELPER",
    `docker-credential-${name} ${action} failed (exit ${r.code})${detail ? `: ${detail}` : ""}`,
  );
}

/**
 * helperGet asks a helper for a server's credentials (the docker credential
 * helper protocol: server URL on stdin, `{ServerURL,Username,Secret}` on
 * stdout; Username `<token>` means Secret is an identity token).
 */
export async function helperGet(
  name: string,
  serverUrl: string,
  o: HelperOptions = {},
): Promise<Credential | undefined> {
  const r = await runHelper(name, "get", serverUrl, o);
  if (r.code !== 0) {
    if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return undefined;
    throw failure(name, "get", r);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new RegistryError("CREDENTIAL_HELPER", `docker-credential-${name} get printed invalid JSON`);
  }
  const username = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  if (!secret) return undefined;
  registerSecret(secret);
  if (username === "<token>") return { identityToken: secret };
  return { username, password: secret };
}

/** helperStore saves credentials with a helper (`store`, JSON on stdin). */
export async function helperStore(
  name: string,
  serverUrl: string,
  c: Credential,
  o: HelperOptions = {},
): Promise<void> {
  const identity = !!c.identityToken;
  const payload = JSON.stringify({
    ServerURL: serverUrl,
    Username: identity ? "<token>" : (c.username ?? ""),
    Secret: identity ? c.identityToken : (c.password ?? ""),
  });
  const r = await runHelper(name, "store", payload, o);
  if (r.code !== 0) throw failure(name, "store", r);
}

/** helperErase forgets a server's credentials; "not found" is success. */
export async function helperErase(name: string, serverUrl: string, o: HelperOptions = {}): Promise<boolean> {
  const r = await runHelper(name, "erase", serverUrl, o);
  if (r.code === 0) return true;
  if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return false;
  throw failure(name, "erase", r);
}
