// Set by scripts/bundle-cli.mjs (esbuild's define) in the bundle; absent when the compiled modules run.
declare const __TSBUILD_GIT_COMMIT__: string | undefined;
declare const __TSBUILD_BUILT__: string | undefined;

/** VERSION is the tsbuild version printed by `tsbuild version` and `tsbuild --version`. */
export const VERSION = "0.1.0";

/** GIT_COMMIT is the short commit the bundle was made from ("unknown" outside a bundle). */
export const GIT_COMMIT = typeof __TSBUILD_GIT_COMMIT__ === "string" ? __TSBUILD_GIT_COMMIT__ : "unknown";

/** BUILT is when that commit was made (RFC 3339; "" outside a bundle), so two bundles of it agree. */
export const BUILT = typeof __TSBUILD_BUILT__ === "string" ? __TSBUILD_BUILT__ : "";
