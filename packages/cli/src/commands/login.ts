import {
  type Credential,
  DOCKER_HUB_AUTH_KEY,
  DockerCredentialStore,
  isRegistryError,
  normalizeRegistry,
} from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { CliUsageError, io } from "../output.js";
import { type RegistryArgs, registryClient } from "../registry-options.js";

interface LoginArgs extends RegistryArgs {
  server?: string;
  username?: string;
  password?: string;
  "password-stdin"?: boolean;
}

/** readAll reads the command's stdin to the end (for --password-stdin). */
async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/**
 * prompt reads one line from a terminal. With `hidden` the terminal goes to
 * raw mode so nothing is echoed (a password), and Ctrl-C/Ctrl-D abort.
 */
function prompt(question: string, hidden: boolean): Promise<string> {
  const { stdin, stdout } = io();
  const input = stdin as TtyIn;
  stdout.write(question);
  const raw = hidden && typeof input.setRawMode === "function";
  if (raw) input.setRawMode?.(true);
  return new Promise<string>((resolve, reject) => {
    let line = "";
    const finish = (err?: Error, rest?: string) => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      if (raw) input.setRawMode?.(false);
      input.pause();
      // Keep what was typed ahead (the password after the username) for the next prompt.
      if (rest) input.unshift(Buffer.from(rest));
      if (hidden) stdout.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onEnd = () => finish(line ? undefined : new Error("no input"));
    const onData = (chunk: Buffer | string) => {
      const text = chunk.toString();
      for (let i = 0; i < text.length; i++) {
        const ch = text[i]!;
        if (ch === "\r" || ch === "\n") {
          return finish(undefined, text.slice(text[i + 1] === "\n" && ch === "\r" ? i + 2 : i + 1));
        }
        if (ch === "\u0003" || ch === "\u0004") return finish(new Error("login aborted"));
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    };
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });
}

const UNENCRYPTED_WARNING = (path: string) =>
  `WARNING! Your credentials are stored unencrypted in '${path}'.\n` +
  "Configure a credential helper to remove this warning. See\n" +
  "https://docs.docker.com/go/credential-store/\n\n";

/** loginCommand is `tsbuild login [SERVER]`, docker's verb: verify, then store credentials. */
export const loginCommand: CommandModule<RegistryArgs, LoginArgs> = {
  command: "login [server]",
  describe: "Log in to a registry (default Docker Hub)",
  builder: (y: Argv<RegistryArgs>) =>
    y
      .positional("server", { type: "string", describe: "Registry host[:port] (default Docker Hub)" })
      .option("username", { alias: "u", type: "string", describe: "Username" })
      .option("password", { alias: "p", type: "string", describe: "Password or personal access token" })
      .option("password-stdin", { type: "boolean", describe: "Take the password from stdin" })
      .example(
        'echo "$TOKEN" | tsbuild login -u alice --password-stdin registry.example.com',
        "log in with a token from a variable",
      ),
  handler: async (argv) => {
    const { stdout, stderr, stdin } = io();
    if (argv.password !== undefined && argv["password-stdin"]) {
      throw new CliUsageError("--password and --password-stdin are mutually exclusive");
    }
    if (argv["password-stdin"] && !argv.username) {
      throw new CliUsageError("Must provide --username with --password-stdin");
    }
    const server = argv.server ?? DOCKER_HUB_AUTH_KEY;
    const registry = normalizeRegistry(server);
    const store = new DockerCredentialStore({ env: io().env });
    const client = registryClient(argv);
    try {
      let username = argv.username;
      let password = argv.password;
      if (password !== undefined)
        stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
      if (argv["password-stdin"]) password = (await readAll(stdin)).replace(/\n$/, "").replace(/\r$/, "");

      if (username === undefined && password === undefined) {
        const existing = await store.get(registry).catch(() => undefined);
        if (existing && (existing.password || existing.identityToken || existing.registryToken)) {
          stdout.write("Authenticating with existing credentials...\n");
          try {
            await client.verifyCredentials(registry, existing);
            stdout.write("Login Succeeded\n");
            return;
          } catch (err) {
            if (!isRegistryError(err, "UNAUTHORIZED")) throw err;
            stderr.write(`Login did not succeed, error: ${err.message}\n`);
          }
        }
      }

      if (username === undefined || password === undefined) {
        if (!(stdin as TtyIn).isTTY)
          throw new Error("Cannot perform an interactive login from a non TTY device");
        if (username === undefined) {
          const stored = (await store.get(registry).catch(() => undefined))?.username;
          const answer = (await prompt(stored ? `Username (${stored}): ` : "Username: ", false)).trim();
          username = answer || stored;
        }
        if (password === undefined) password = await prompt("Password: ", true);
      }
      if (!username) throw new Error("Username is required");
      if (!password) throw new Error("Password is required");

      const credential: Credential = { username, password };
      await client.verifyCredentials(registry, credential);
      const result = await store.save(registry, credential);
      if (result.plaintext) stderr.write(UNENCRYPTED_WARNING(result.configPath));
      stdout.write("Login Succeeded\n");
    } finally {
      await client.close();
    }
  },
};
