# Sourced by every test/golden/build/<case>/setup.sh. A setup.sh makes the
# build context in $1 (and, in $2, what the case serves over HTTP or passes as
# a secret) from scratch, with exact modes, links and archives: git keeps
# neither modes nor hardlinks, so no context file is committed.
# Needs bash, coreutils, GNU tar, gzip, bzip2, xz. Works as any user.
set -euo pipefail
umask 022
CTX="${1:?usage: setup.sh CONTEXT_DIR [EXTRA_DIR]}"
EXTRA="${2:-$CTX.extra}"
EPOCH=1700000000
mkdir -p "$CTX" "$EXTRA"
cd "$CTX"

# put PATH MODE CONTENT: a regular file (parents made 0755)
put() { mkdir -p "$(dirname "$1")"; printf '%s' "$3" >"$1"; chmod "$2" "$1"; }
# putdir PATH MODE: a directory
putdir() { mkdir -p "$1"; chmod "$2" "$1"; }
# link TARGET PATH: a symlink
link() { mkdir -p "$(dirname "$2")"; ln -sfn "$1" "$2"; }
# hard EXISTING PATH: a hardlink
hard() { mkdir -p "$(dirname "$2")"; ln -f "$1" "$2"; }
# mktar OUT DIR [PATH=UID:GID...]: a deterministic tar of DIR's contents, owned 0:0 except the named
# entries (relative to DIR, appended last with their owner); compressed by OUT's extension
# (.tar.gz/.tgz, .tar.bz2, .tar.xz, .tar)
mktar() {
  local out="$1" dir="$2"; shift 2
  local raw="$out.raw.$$" o excl=()
  for o in "$@"; do excl+=(--exclude="./${o%%=*}"); done
  local common=(--sort=name --mtime="@$EPOCH" --numeric-owner --format=gnu)
  tar "${common[@]}" --owner=0 --group=0 "${excl[@]}" -C "$dir" -cf "$raw" .
  for o in "$@"; do
    local ids="${o#*=}"
    tar "${common[@]}" --owner="${ids%%:*}" --group="${ids#*:}" --no-recursion -C "$dir" -rf "$raw" "./${o%%=*}"
  done
  case "$out" in
    *.tar.gz | *.tgz) gzip -n -9 <"$raw" >"$out" ;;
    *.tar.bz2) bzip2 -9 <"$raw" >"$out" ;;
    *.tar.xz) xz -6 <"$raw" >"$out" ;;
    *) cat "$raw" >"$out" ;;
  esac
  rm -f "$raw"
}
# finish: every timestamp set to EPOCH (they are not compared, but keep the contexts identical)
finish() {
  find "$CTX" "$EXTRA" -depth -exec touch -h -d "@$EPOCH" {} +
}
