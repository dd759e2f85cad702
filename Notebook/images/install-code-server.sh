#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) for the process backend's VS Code deployments, offline-friendly:
# only the npm registry and Debian apt are needed. `npm install -g code-server` cannot work here: its install
# scripts download ripgrep and prebuilt binaries from GitHub. So the package is unpacked, its dependencies are
# installed without scripts, the native modules are rebuilt from source (argon2, node-pty, spdlog, watcher,
# kerberos: hence libkrb5-dev and pkg-config), Debian's ripgrep stands in for the downloaded one, and code-server's
# own postinstall.sh finishes the job.
#
# Idempotent: does nothing when $PREFIX/.installed exists. The build happens in a sibling folder that is renamed
# into place only when it has finished, so an interrupted run leaves no half-installed code-server behind.
# 4.100.3 is the last release that runs on Node 20 (Debian bookworm's Node is 18; this machine kind has 20).
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
PREFIX="${CODE_SERVER_PREFIX:-/opt/code-server-$VERSION}"
BIN_LINK="${CODE_SERVER_LINK:-/usr/local/bin/code-server}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

link() { as_root ln -sfn "$PREFIX/bin/code-server" "$BIN_LINK"; }

if [ -f "$PREFIX/.installed" ]; then
  [ -e "$BIN_LINK" ] || link
  echo "code-server $VERSION already installed in $PREFIX"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
if [ "$node_major" != 20 ]; then
  echo "install-code-server: code-server $VERSION needs Node 20 (found: $node_major)" >&2
  exit 1
fi

packages=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || packages+=(libkrb5-dev)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
[ -x /usr/bin/rg ] || packages+=(ripgrep)
command -v make >/dev/null 2>&1 || packages+=(make)
command -v g++ >/dev/null 2>&1 || packages+=(g++)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
if [ ${#packages[@]} -gt 0 ]; then
  echo "install-code-server: installing ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

export npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false \
  npm_config_update_notifier=false npm_config_loglevel=error

work=$(mktemp -d)
staging="$PREFIX.partial"
trap 'rm -rf "$work"; as_root rm -rf "$staging"' EXIT

echo "install-code-server: building code-server $VERSION in $staging"
(cd "$work" && npm pack --silent "code-server@$VERSION" >/dev/null)
as_root rm -rf "$staging"
as_root mkdir -p "$staging"
as_root chown "$(id -u):$(id -g)" "$staging"
tar -xzf "$work/code-server-$VERSION.tgz" -C "$staging" --strip-components=1

cd "$staging"
npm install --omit=dev --ignore-scripts
npm rebuild argon2

cd lib/vscode
npm install --omit=dev --ignore-scripts
# @vscode/ripgrep's install script downloads rg from GitHub; Debian's rg serves the same purpose.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sfn /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
npm rebuild
cd "$staging"

# postinstall.sh reads npm's user agent to pick npm and to check the Node version.
npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" sh ./postinstall.sh

mkdir -p bin
cat > bin/code-server <<SH
#!/usr/bin/env sh
exec node "$PREFIX/out/node/entry.js" "\$@"
SH
chmod 0755 bin/code-server
touch .installed

as_root rm -rf "$PREFIX"
as_root mv "$staging" "$PREFIX"
link
XDG_CONFIG_HOME="$work" XDG_DATA_HOME="$work" "$BIN_LINK" --version
echo "install-code-server: installed code-server $VERSION in $PREFIX ($(du -sh "$PREFIX" | cut -f1))"
