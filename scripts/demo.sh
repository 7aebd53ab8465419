#!/usr/bin/env bash
# The main job end to end: install everything, start a local registry, make a
# busybox base image from Debian's busybox-static, import it into a local
# store, check and build a Dockerfile, push the image to the registry, and pull
# it back into a second store. Then example 1 (examples/custom-nginx, the
# tutorial's nginx image): a Debian base made with debootstrap (cached in
# ~/.cache/tsbuild-test after the first run) stands in for Docker Hub's
# ubuntu:latest in the local registry, which tsbuild uses as its Docker Hub
# mirror; the image is built with apt-get and run with -p $DEMO_HTTP_PORT:80
# (default 8080), and curl gets nginx's page.
# Everything else it writes goes under $DEMO_DIR (default /tmp/tsbuild-demo).
# Run it as root, or as a user with sudo (debootstrap needs root once; the
# build and run are rootless for an ordinary user).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

DEMO_DIR="${DEMO_DIR:-/tmp/tsbuild-demo}"
PORT="${DEMO_PORT:-5056}"
HTTP_PORT="${DEMO_HTTP_PORT:-8080}"
REG="127.0.0.1:$PORT"
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
ts() { ./bin/tsbuild --root "$DEMO_DIR/store" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "start a local registry on $REG"
cat >"$DEMO_DIR/registry.yml" <<YML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $DEMO_DIR/registry }
  delete: { enabled: true }
http: { addr: $REG }
YML
docker-registry serve "$DEMO_DIR/registry.yml" >"$DEMO_DIR/registry.log" 2>&1 &
REG_PID=$!
cleanup() {
  if [[ -n "${RUN_PID:-}" ]]; then kill -TERM "$RUN_PID" 2>/dev/null || true; fi
  kill "$REG_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$REG/v2/" >/dev/null

step "make a busybox root filesystem from busybox-static"
ROOTFS="$DEMO_DIR/rootfs"
mkdir -p "$ROOTFS"/{bin,etc,tmp,root}
cp /bin/busybox "$ROOTFS/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ "$applet" == busybox ]] || ln -sf busybox "$ROOTFS/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
chmod 1777 "$ROOTFS/tmp"

step "import it as a base image"
export SOURCE_DATE_EPOCH=1700000000
ts image import "$ROOTFS" busybox:latest
ts tag busybox:latest "$REG/library/busybox:latest"
ts image ls
ts image history busybox:latest

step "push the base to the registry"
ts push "$REG/library/busybox:latest"

step "check and build an app image on it (COPY, RUN, metadata), then rebuild from the cache"
mkdir -p "$DEMO_DIR/app"
printf '<h1>built by tsbuild</h1>\n' >"$DEMO_DIR/app/index.html"
cat >"$DEMO_DIR/app/Dockerfile" <<DOCKERFILE
FROM $REG/library/busybox:latest
WORKDIR /www
COPY index.html .
RUN echo "built \$(date -u -d @\$SOURCE_DATE_EPOCH +%F)" > /www/build.txt && rm -rf /tmp/*
EXPOSE 80
ENTRYPOINT ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]
DOCKERFILE
ts build --check "$DEMO_DIR/app"
ts build --progress plain --build-arg SOURCE_DATE_EPOCH --tag demo/app:v1 "$DEMO_DIR/app"
ts build --progress plain --build-arg SOURCE_DATE_EPOCH --tag demo/app:v1 "$DEMO_DIR/app"
ts image ls
ts image history demo/app:v1

step "push it"
ts tag demo/app:v1 "$REG/demo/app:v1"
ts push "$REG/demo/app:v1"
ts tag busybox:latest "$REG/demo/busybox:v1"
ts push "$REG/demo/busybox:v1"

step "pull it back into a second store"
./bin/tsbuild --root "$DEMO_DIR/store2" pull "$REG/demo/busybox:v1"
./bin/tsbuild --root "$DEMO_DIR/store2" pull "$REG/demo/app:v1"
./bin/tsbuild --root "$DEMO_DIR/store2" image ls
skopeo inspect --tls-verify=false --config "docker://$REG/demo/app:v1" | jq '{Entrypoint: .config.Entrypoint, history: [.history[].created_by]}'
./bin/tsbuild --root "$DEMO_DIR/store2" image save -o "$DEMO_DIR/busybox.tar" "$REG/demo/busybox:v1"
skopeo inspect "docker-archive:$DEMO_DIR/busybox.tar" | jq '{Digest, Layers}'

step "clean up"
ts image rm "$REG/demo/busybox:v1" "$REG/demo/app:v1"
ts image prune -a -f
unset SOURCE_DATE_EPOCH

step "example 1: a Debian base made with debootstrap stands in for Docker Hub's ubuntu:latest"
CACHE="${TSBUILD_TEST_CACHE:-$HOME/.cache/tsbuild-test}"
BASE="$($SUDO env TSBUILD_TEST_CACHE="$CACHE" bash scripts/debian-base.sh)"
ts image import --change 'CMD ["bash"]' "$BASE" "$REG/library/ubuntu:latest"
ts push "$REG/library/ubuntu:latest"
ts image rm "$REG/library/ubuntu:latest"

step "example 1: build examples/custom-nginx (FROM ubuntu:latest, through the registry as a Docker Hub mirror)"
cat examples/custom-nginx/Dockerfile
ts --registry-mirror "http://$REG" build --tag custom-nginx:packaged examples/custom-nginx
ts image ls
ts image history custom-nginx:packaged

step "example 1: tsbuild run --rm -p $HTTP_PORT:80 custom-nginx:packaged, and curl it"
# Not through ts(): $! must be tsbuild itself, which passes the SIGTERM below on to nginx.
./bin/tsbuild --root "$DEMO_DIR/store" run --rm -p "$HTTP_PORT:80" custom-nginx:packaged &
RUN_PID=$!
page=""
for _ in $(seq 300); do
  page="$(curl -fsS "http://127.0.0.1:$HTTP_PORT/" 2>/dev/null)" && break
  sleep 0.2
done
kill -TERM "$RUN_PID"
wait "$RUN_PID"   # nginx stops cleanly on SIGTERM: exit 0
RUN_PID=""
grep -o '<title>.*</title>' <<<"$page"
grep -q '<title>Welcome to nginx!</title>' <<<"$page"
echo "demo complete: everything is under $DEMO_DIR"
