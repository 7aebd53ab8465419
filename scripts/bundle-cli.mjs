// bundle-cli.mjs writes packages/cli/dist/bundle/: the CLI as one ES module per command (esbuild, code
// splitting), so a call loads a few files instead of ~300 (start-up is part of every call's time; see
// bench/startup.sh). It bundles the compiled dist/ that `tsc -b` wrote; bin/tsbuild runs it when present.
import { execFileSync } from "node:child_process";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "packages/cli");
const outdir = join(cli, "dist/bundle");
// yargs lives in the cli package's dependencies, not the root's.
const yargsDir = dirname(createRequire(join(cli, "package.json")).resolve("yargs/package.json"));

/**
 * yargsShim adapts yargs's platform shim to living in a bundle chunk of outdir:
 * - its translated messages (picked from LC_ALL/LANG) are found three levels above the shim; point
 *   that at outdir/locales, where the files are copied;
 * - it looks for package.json from the folder above node_modules (the bundle has none: the current
 *   directory, read up to / on every call) to guess a version we replace at once; start at outdir;
 * - node:assert, for yargs's internal checks, loads on first use (it and the colours it sets up cost
 *   more at start-up than all of yargs's own options).
 */
const YARGS_SHIM = [
  ["resolve(__dirname, '../../../locales')", "resolve(__dirname, '../locales')"],
  [
    "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
    "const mainFilename = dirname(__dirname);",
  ],
  [
    "import { notStrictEqual, strictEqual } from 'assert'",
    "const notStrictEqual = (...a) => require('node:assert').notStrictEqual(...a);\n" +
      "const strictEqual = (...a) => require('node:assert').strictEqual(...a);",
  ],
];
const yargsShim = {
  name: "yargs-shim",
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      let source = await readFile(args.path, "utf8");
      for (const [from, to] of YARGS_SHIM) {
        if (!source.includes(from)) throw new Error(`bundle-cli: ${args.path} no longer has ${from}`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

/**
 * helpOnly defers modules that only help text uses. string-width builds Intl.Segmenter and
 * Unicode-property regexps when loaded and segments every string it measures, which made `--help`
 * cost three times a bare `node` start-up; cliui loads it. Each import of them gets a stand-in whose
 * default export loads the real module on its first call (esbuild wraps a require()d ES module so that
 * it runs then). Printable ASCII, all of tsbuild's own help, is one column per character: string-width
 * 8 takes that same shortcut itself (7 gives the same widths, the long way).
 */
const HELP_ONLY = /^(string-width|cliui)$/;
const ASCII_WIDTH = `  if (typeof a[0] === "string" && /^[\\u0020-\\u007E]*$/.test(a[0])) return a[0].length;\n`;
const helpOnly = {
  name: "help-only",
  setup(b) {
    b.onResolve({ filter: HELP_ONLY }, async (args) => {
      if (args.pluginData === "real") return undefined;
      const real = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "real",
      });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "help-only", pluginData: args.path };
    });
    b.onLoad({ filter: /.*/, namespace: "help-only" }, (args) => ({
      contents: [
        "let real;",
        "export default function (...a) {",
        args.pluginData === "string-width" ? ASCII_WIDTH : "",
        `  real ??= require(${JSON.stringify(args.path)}).default;`,
        "  return real(...a);",
        "}",
      ].join("\n"),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * lazyUndici defers undici until a command first talks to a registry: `build` imports the registry
 * client for its bases and --push but a rebuild from the store never uses it. The packages' imports
 * of undici get a stand-in: each class export constructs the real one (`new Agent()` returns
 * undici's Agent), which comes from outdir/undici.cjs, bundled on its own from UNDICI_SLIM: the
 * dispatchers the registry client uses and the request API on them, not undici's fetch, WebSocket,
 * mocks and caches (a full `require("undici")` costs 90 ms, this a third of it). An import of any
 * other undici name fails the build, and so does `instanceof` or `extends` of an undici class in a
 * package's source.
 */
const UNDICI_EXPORTS = ["Agent", "ProxyAgent"];
const UNDICI_SLIM = [
  '"use strict";',
  'const Dispatcher = require("./lib/dispatcher/dispatcher");',
  'Object.assign(Dispatcher.prototype, require("./lib/api"));',
  ...UNDICI_EXPORTS.map(
    (n) => `exports.${n} = require("./lib/dispatcher/${n === "Agent" ? "agent" : "proxy-agent"}");`,
  ),
].join("\n");
let undiciEntry;
const lazyUndici = {
  name: "lazy-undici",
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, async (args) => {
      if (args.pluginData === "real" || !args.importer.includes(`${repo}/packages/`)) return undefined;
      const source = await readFile(args.importer, "utf8");
      if (
        /instanceof\s+(Agent|ProxyAgent|Dispatcher|Client|Pool)\b|extends\s+(Agent|ProxyAgent|Dispatcher|Client|Pool)\b/.test(
          source,
        )
      ) {
        return {
          errors: [
            {
              text: `bundle-cli: ${args.importer} uses an undici class with instanceof/extends; lazyUndici cannot stand in for it`,
            },
          ],
        };
      }
      const real = await b.resolve("undici", {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "real",
      });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "lazy-undici" };
    });
    b.onResolve({ filter: /^\.\/undici\.cjs$/, namespace: "lazy-undici" }, () => ({
      path: "./undici.cjs",
      external: true,
    }));
    b.onLoad({ filter: /.*/, namespace: "lazy-undici" }, (args) => {
      undiciEntry = args.path;
      const lines = ["let real;", 'const undici = () => (real ??= require("./undici.cjs"));'];
      for (const name of UNDICI_EXPORTS) {
        lines.push(
          `export function ${name}(...a) {`,
          `  return Reflect.construct(undici().${name}, a);`,
          "}",
        );
      }
      return { contents: lines.join("\n"), loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
/** gitInfo is the commit `tsbuild version` reports and its time (a tarball without .git: unknown). */
function gitInfo() {
  try {
    const out = execFileSync("git", ["log", "-1", "--format=%h %cI"], { cwd: repo, encoding: "utf8" }).trim();
    const [commit, built] = out.split(" ");
    return { commit: commit ?? "unknown", built: built ?? "" };
  } catch {
    return { commit: "unknown", built: "" };
  }
}
const git = gitInfo();

await build({
  entryPoints: { tsbuild: join(cli, "dist/main.js") },
  define: {
    __TSBUILD_GIT_COMMIT__: JSON.stringify(git.commit),
    __TSBUILD_BUILT__: JSON.stringify(git.built),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "[name]-[hash]",
  // CommonJS dependencies (tar-stream, …) require() Node's built-ins; an ES module has no require of its own.
  banner: {
    js: 'import { createRequire as __tsbuildRequire } from "node:module";\nconst require = __tsbuildRequire(import.meta.url);',
  },
  plugins: [yargsShim, helpOnly, lazyUndici],
  logLevel: "warning",
});
if (undiciEntry) {
  await build({
    stdin: {
      contents: UNDICI_SLIM,
      resolveDir: dirname(undiciEntry),
      sourcefile: "undici-slim.cjs",
      loader: "js",
    },
    outfile: join(outdir, "undici.cjs"),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
}
await cp(join(yargsDir, "locales"), join(outdir, "locales"), { recursive: true });
// Node looks for the nearest package.json to know the chunks are ES modules: let it stop here.
await writeFile(join(outdir, "package.json"), '{ "type": "module" }\n');
