import {
  credentialKey,
  DOCKER_HUB_AUTH_KEY,
  DockerCredentialStore,
  normalizeRegistry,
} from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { io } from "../output.js";
import type { RegistryArgs } from "../registry-options.js";

/**
 * logoutCommand is `tsbuild logout [SERVER]`: forget stored credentials from
 * config.json and the credential helper, under every key docker may have
 * used for that server.
 */
export const logoutCommand: CommandModule<RegistryArgs, RegistryArgs & { server?: string }> = {
  command: "logout [server]",
  describe: "Log out from a registry (default Docker Hub)",
  builder: (y: Argv<RegistryArgs>) =>
    y
      .positional("server", { type: "string", describe: "Registry host[:port] (default Docker Hub)" })
      .example("tsbuild logout registry.example.com", "forget the credentials of a registry"),
  handler: async (argv) => {
    const server = argv.server ?? DOCKER_HUB_AUTH_KEY;
    const name = credentialKey(server);
    const store = new DockerCredentialStore({ env: io().env });
    const removed = await store.remove(normalizeRegistry(server));
    io().stdout.write(removed ? `Removing login credentials for ${name}\n` : `Not logged in to ${name}\n`);
  },
};
