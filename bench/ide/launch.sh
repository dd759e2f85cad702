#!/usr/bin/env bash
# Launch latency of a Jupyter notebook, ours (process backend, through the front door) against JupyterHub 3.0's
# LocalProcessSpawner behind configurable-http-proxy, each minus a bare start of the same Jupyter; then many launches
# at once on ours. Prints p50/p95 and the ratio of the overheads (bench/README.md).
#   bench/ide/launch.sh [sequential launches (15)] [concurrent launches (20)]
set -euo pipefail
cd "$(dirname "$0")/../.."
launches=${1:-15}
concurrent=${2:-20}
missing=()
[ -x /usr/bin/jupyter-notebook ] || missing+=(jupyter-notebook python3-ipykernel)
command -v jupyterhub >/dev/null || missing+=(jupyterhub)
command -v configurable-http-proxy >/dev/null || missing+=(node-configurable-http-proxy)
[ ${#missing[@]} -eq 0 ] || { echo "needed: sudo apt-get install ${missing[*]}" >&2; exit 1; }

source bench/common.sh
start_platform
sign_up full
/usr/bin/python3 bench/ide/launch.py --web-port "$PORT" --jar "$WORK/cookies" --work "$WORK" \
  --launches "$launches" --concurrent "$concurrent"
