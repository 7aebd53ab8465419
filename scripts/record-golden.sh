#!/usr/bin/env bash
# Records the golden outputs of test/golden/build/<case>/ with docker itself:
#   scripts/record-golden.sh            every recordable case
#   scripts/record-golden.sh CASE...    only these
# For each case: setup.sh makes the build context (and the files it serves or
# passes as secrets), `docker build` (BuildKit, host network) builds the
# Dockerfile on the golden base images, `docker save` exports it, and
# test/golden/tool.ts writes the description to expected.json. Cases whose
# case.json has a "source" starting with "hand" use what docker 20.10 lacks:
# their Dockerfile.docker20 is built instead and case.json's historyOverride
# replaces the history entries that current BuildKit writes differently.
#
# Needs root. Installs Debian's docker.io when missing, starts its own dockerd
# with scripts/dockerd.sh (data root, exec root, pidfile and socket under a
# temp dir; no bridge, no iptables), stops it and the containerd it started by
# PID, and removes the temp dir. Nothing here is needed by CI, which only reads the recordings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
CASES_DIR="$ROOT/test/golden/build"
DOCKER=/usr/bin/docker # Debian's 20.10 CLI: it has the BuildKit client that DOCKER_BUILDKIT=1 needs

log() { echo "record-golden: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (dockerd)"

bash scripts/dockerd.sh install

# The describer is TypeScript; Node 20 cannot run it directly, so compile it with the repo's tsc.
pnpm build >/dev/null
pnpm exec tsc -p test/golden/tsconfig.json
TOOL=(node "$ROOT/test/golden/dist/tool.js")

if (($#)); then CASES=("$@"); else mapfile -t CASES < <(ls "$CASES_DIR"); fi
for c in "${CASES[@]}"; do [[ -f "$CASES_DIR/$c/case.json" ]] || die "no such case: $c"; done

T="$(mktemp -d /tmp/golden-record.XXXXXX)"
DDIR="$T/docker"
SERVER_PID=""
cleanup() {
  local rc=$?
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  # stops the dockerd and the containerd it started by their PIDs, unmounts what is left under $DDIR
  bash scripts/dockerd.sh stop "$DDIR" || true
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$T/out"
bash scripts/dockerd.sh start "$DDIR" || die "dockerd did not start"
export DOCKER_HOST="unix://$DDIR/docker.sock" DOCKER_CONFIG="$DDIR/cli-config" DOCKER_BUILDKIT=1
log "dockerd $($DOCKER version --format '{{.Server.Version}}') up (pid $(cat "$DDIR/launcher.pid"))"

while IFS=$'\t' read -r name file; do
  $DOCKER load -q -i "$file" >/dev/null
  log "loaded base $name"
done < <("${TOOL[@]}" bases "$T/bases")

# field CASE_JSON EXPR: prints a value of case.json (arrays one item per line)
field() {
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = process.argv[2].split(".").reduce((o, k) => (o == null ? undefined : o[k]), c);
    if (v === undefined || v === null) process.exit(0);
    if (Array.isArray(v)) for (const x of v) console.log(typeof x === "string" ? x : JSON.stringify(x));
    else if (typeof v === "object") for (const [k, x] of Object.entries(v)) console.log(`${k}=${x}`);
    else console.log(String(v));' "$1" "$2"
}

failed=()
for c in "${CASES[@]}"; do
  dir="$CASES_DIR/$c"
  cj="$dir/case.json"
  df="$dir/Dockerfile"
  if [[ "$(field "$cj" source)" == hand* ]]; then
    # docker 20.10 cannot build it: build Dockerfile.docker20, which gives the same tree with what 20.10
    # has, and take the history entries named in case.json's historyOverride from current BuildKit
    [[ -f "$dir/Dockerfile.docker20" ]] || { log "$c: written by hand, skipped"; continue; }
    df="$dir/Dockerfile.docker20"
  fi
  ctx="$T/ctx/$c" extra="$T/extra/$c"
  mkdir -p "$ctx" "$extra"
  bash "$dir/setup.sh" "$ctx" "$extra"
  args=(build --network host --progress plain -t "golden-case/$c:latest" -f "$df")
  while read -r a; do [[ -n "$a" ]] && args+=(--build-arg "$a"); done < <(field "$cj" buildArgs)
  target="$(field "$cj" target)"; [[ -n "$target" ]] && args+=(--target "$target")
  platform="$(field "$cj" platform)"; [[ -n "$platform" ]] && args+=(--platform "$platform")
  while read -r s; do [[ -n "$s" ]] && args+=(--secret "id=${s%%=*},src=$extra/${s#*=}"); done < <(field "$cj" secrets)
  subst=()
  if [[ "$(field "$cj" needsHttp)" == true ]]; then
    "${TOOL[@]}" serve "$extra/http" >"$T/serve.port" &
    SERVER_PID=$!
    for _ in $(seq 1 50); do [[ -s "$T/serve.port" ]] && break; sleep 0.1; done
    args+=(--build-arg "HTTP_BASE=http://127.0.0.1:$(cat "$T/serve.port")")
    # the port differs on every run: expected.json says HTTP_PORT instead (tests substitute theirs the same way)
    subst=("127.0.0.1:$(cat "$T/serve.port")" "127.0.0.1:HTTP_PORT")
  fi
  log "$c: building"
  if $DOCKER "${args[@]}" "$ctx" >"$T/out/$c.log" 2>&1; then
    $DOCKER save -o "$T/out/$c.tar" "golden-case/$c:latest"
    "${TOOL[@]}" describe "$T/out/$c.tar" "$(field "$cj" baseLayers)" "$dir/expected.json" "${subst[@]}"
    # docker's own merged view of the image must be the description's tree (whiteouts, opaque dirs, links)
    cid="$($DOCKER create "golden-case/$c:latest" 2>/dev/null)"
    $DOCKER export -o "$T/out/$c.export.tar" "$cid"
    $DOCKER rm "$cid" >/dev/null
    "${TOOL[@]}" check-export "$dir/expected.json" "$T/out/$c.export.tar" || failed+=("$c (tree differs from docker export)")
    rm -f "$T/out/$c.export.tar"
    "${TOOL[@]}" override-history "$dir/expected.json" "$cj"
    log "$c: recorded"
  else
    failed+=("$c")
    log "$c: docker build failed:"; tail -n 15 "$T/out/$c.log" >&2
  fi
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
  $DOCKER image rm -f "golden-case/$c:latest" >/dev/null 2>&1 || true
  rm -f "$T/out/$c.tar"
done
pnpm exec biome format --write "$CASES_DIR" >/dev/null
((${#failed[@]} == 0)) || die "failed: ${failed[*]}"
log "done"
