#!/usr/bin/env bash
# Builds the container images the docker backend runs, with Podman, from nothing but Debian's apt mirror (no container
# registry is needed):
#   localhost/platform-base:bookworm             Debian bookworm minbase (debootstrap), imported as an image
#   localhost/platform-jupyter:latest            Notebook/images/jupyter: Jupyter + the SDK (the `development` module)
#   localhost/platform-demo-classifier:latest    Notebook/images/demo-classifier (the `demo-classifier` module)
# Idempotent and cheap to rerun: the base is made only when missing (debootstrap, minutes); the others are rebuilt from
# Podman's layer cache, so a rerun takes seconds and a changed Containerfile, SDK or module is picked up.
# Usage: Notebook/images/build.sh [--force] [image ...]   (image: base, jupyter, demo-classifier; default all)
#   --force remakes the named images without cache (all three when none is named).
# Needs root (debootstrap, and the rootful Podman storage that `podman system service` run as root serves).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
context="$(dirname "$here")"   # Notebook/: the SDK and the modules are copied from it
force=0
named=()
for argument in "$@"; do
  case "$argument" in
    --force) force=1 ;;
    base|jupyter|demo-classifier) named+=("$argument") ;;
    *) echo "build.sh: unknown argument '$argument'" >&2; exit 2 ;;
  esac
done
[ ${#named[@]} -gt 0 ] || named=(base jupyter demo-classifier)
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

is_named() { local n; for n in "${named[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
forced() { [ "$force" = 1 ] && is_named "$1"; }

build_base() {
  local image=localhost/platform-base:bookworm
  if ! forced base && podman image exists "$image"; then echo "build.sh: $image present"; return; fi
  command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  local root
  root="$(mktemp -d /var/tmp/platform-base.XXXXXX)"
  trap 'rm -rf "$root"' RETURN
  echo "build.sh: debootstrap bookworm into $root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
  echo "build.sh: built $image"
}

build() {  # build NAME IMAGE
  local cache=--layers
  forced "$1" && cache=--no-cache
  podman build --quiet "$cache" -f "$here/$1/Containerfile" -t "$2" "$context" >/dev/null
  echo "build.sh: built $2"
}

# Each image stands on the one before, which is made first when missing.
build_base
if is_named jupyter || is_named demo-classifier; then build jupyter localhost/platform-jupyter:latest; fi
if is_named demo-classifier; then build demo-classifier localhost/platform-demo-classifier:latest; fi
