import { posix } from "node:path";
import { envsFromSlice, type Instruction, parseDockerfile, ShellLex } from "@tsbuild/builder";
import type { ContainerConfig, HealthConfig } from "@tsbuild/oci";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** CHANGE_KINDS are the instructions `docker import --change` / `docker commit --change` accept. */
const CHANGE_KINDS = new Set([
  "cmd",
  "entrypoint",
  "env",
  "expose",
  "healthcheck",
  "label",
  "onbuild",
  "stopsignal",
  "user",
  "volume",
  "workdir",
]);

/** ImportChangeError is a `--change` that is not a config instruction or does not parse. */
export class ImportChangeError extends Error {
  override readonly name = "ImportChangeError";
}

/**
 * applyChanges is `docker import --change`: each change is a Dockerfile
 * instruction that only edits the image config (CMD, ENTRYPOINT, ENV,
 * EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR),
 * with `$VAR` expanded from the ENV set so far, as docker does.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  if (changes.length === 0) return base;
  let parsed: ReturnType<typeof parseDockerfile>;
  try {
    parsed = parseDockerfile(changes.join("\n"), { file: "--change" });
  } catch (err) {
    throw new ImportChangeError(`invalid --change: ${(err as Error).message}`);
  }
  const c: Mutable<ContainerConfig> = { ...base };
  const lex = new ShellLex({ escapeToken: parsed.escapeToken });
  const expand = (word: string) => lex.processWord(word, envsFromSlice(c.Env ?? []));
  let cmdSet = false;
  for (const ins of parsed.instructions) {
    if (!CHANGE_KINDS.has(ins.kind)) {
      throw new ImportChangeError(`${ins.keyword.toUpperCase()} is not a valid change command`);
    }
    apply(
      c,
      ins,
      expand,
      () => {
        cmdSet = true;
      },
      cmdSet,
    );
  }
  return c;
}

function shellForm(args: string[], prependShell: boolean, shell: readonly string[] | undefined): string[] {
  return prependShell ? [...(shell ?? ["/bin/sh", "-c"]), ...args] : args;
}

function apply(
  c: Mutable<ContainerConfig>,
  ins: Instruction,
  expand: (w: string) => string,
  markCmd: () => void,
  cmdSet: boolean,
): void {
  switch (ins.kind) {
    case "cmd":
      c.Cmd = shellForm(ins.command.args, ins.command.prependShell, c.Shell);
      markCmd();
      return;
    case "entrypoint":
      c.Entrypoint = shellForm(ins.command.args, ins.command.prependShell, c.Shell);
      // As in a build: ENTRYPOINT resets a CMD that was not set alongside it.
      if (!cmdSet) c.Cmd = null;
      return;
    case "env": {
      const env = [...(c.Env ?? [])];
      for (const { key, value } of ins.pairs) {
        const k = expand(key);
        const entry = `${k}=${expand(value)}`;
        const i = env.findIndex((e) => e.split("=")[0] === k);
        if (i >= 0) env[i] = entry;
        else env.push(entry);
      }
      c.Env = env;
      return;
    }
    case "label": {
      const labels = { ...(c.Labels ?? {}) };
      for (const { key, value } of ins.pairs) labels[expand(key)] = expand(value);
      c.Labels = labels;
      return;
    }
    case "expose": {
      const ports: Record<string, object> = { ...(c.ExposedPorts ?? {}) };
      for (const word of ins.ports) for (const p of expandPorts(expand(word))) ports[p] = {};
      c.ExposedPorts = ports;
      return;
    }
    case "volume": {
      const volumes: Record<string, object> = { ...(c.Volumes ?? {}) };
      for (const p of ins.paths) volumes[expand(p)] = {};
      c.Volumes = volumes;
      return;
    }
    case "user":
      c.User = expand(ins.user);
      return;
    case "workdir":
      c.WorkingDir = posix.resolve(c.WorkingDir || "/", expand(ins.path));
      return;
    case "stopsignal":
      c.StopSignal = expand(ins.signal);
      return;
    case "onbuild":
      c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
      return;
    case "healthcheck": {
      const h = ins.health;
      const out: Mutable<HealthConfig> = { Test: h.test };
      if (h.interval) out.Interval = h.interval;
      if (h.timeout) out.Timeout = h.timeout;
      if (h.startPeriod) out.StartPeriod = h.startPeriod;
      if (h.startInterval) out.StartInterval = h.startInterval;
      if (h.retries) out.Retries = h.retries;
      c.Healthcheck = out;
      return;
    }
    default:
      throw new ImportChangeError(`${ins.keyword.toUpperCase()} is not a valid change command`);
  }
}

/** expandPorts reads `80`, `53/udp`, `8000-8002/tcp` as docker's nat.ParsePortSpecs does. */
function expandPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new ImportChangeError(`invalid containerPort: ${spec}`);
  const proto = (m[3] ?? "tcp").toLowerCase();
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (end < start || end > 65535) throw new ImportChangeError(`invalid port range: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
