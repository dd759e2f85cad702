#!/usr/bin/env bash
# Builds the container images the docker backend runs, with Podman, from nothing but Debian's apt mirror (no container
# registry is needed). Idempotent: an image already present is kept unless --force is given.
#   localhost/platform-base:bookworm             Debian bookworm minbase (debootstrap), imported as an image
#   localhost/platform-jupyter:latest            Notebook/images/jupyter: Jupyter + the SDK (the `development` module)
#   localhost/platform-demo-classifier:latest    Notebook/images/demo-classifier (the `demo-classifier` module)
# Usage: Notebook/images/build.sh [--force] [image ...]   (image: base, jupyter, demo-classifier; default all)
# Needs root (debootstrap, rootful Podman storage: what `podman system service` serves).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
context="$(dirname "$here")"   # Notebook/: the SDK and the modules are copied from it
force=0
wanted=()
for argument in "$@"; do
  case "$argument" in
    --force) force=1 ;;
    base|jupyter|demo-classifier) wanted+=("$argument") ;;
    *) echo "build.sh: unknown argument '$argument'" >&2; exit 2 ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=(base jupyter demo-classifier)
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

present() { [ "$force" = 0 ] && podman image exists "$1"; }
want() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

build_base() {
  local image=localhost/platform-base:bookworm
  if present "$image"; then echo "build.sh: $image present"; return; fi
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
  local image="$2"
  if present "$image"; then echo "build.sh: $image present"; return; fi
  podman build --quiet --layers -f "$here/$1/Containerfile" -t "$image" "$context" >/dev/null
  echo "build.sh: built $image"
}

# Each image builds on the one before, so asking for a later one builds what it stands on when missing.
want base || want jupyter || want demo-classifier && build_base
want jupyter || want demo-classifier && build jupyter localhost/platform-jupyter:latest
want demo-classifier && build demo-classifier localhost/platform-demo-classifier:latest
exit 0
