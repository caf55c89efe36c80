#!/usr/bin/env bash
# Measures how many concurrent appliers the state repository's
# compare-and-swap push sustains: N launchplane processes apply N distinct
# targets (fake provider) at the same time against one bare file:// remote.
# Prints whether every apply landed, the state commits retried (lost
# races) per commit, and the wall time. Each process has its own HOME, so
# its own cache of the remote, as the jobs of a matrix on separate runners
# do (SHARED_CACHE=1: one cache for all, whose lock then serialises them).
#
#   scripts/measure-cas.sh 8
#   scripts/measure-cas.sh 32
set -euo pipefail
n=${1:?usage: scripts/measure-cas.sh N}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/launchplane" ./cmd/launchplane)
lp="$work/launchplane"
git init -q --bare "$work/remote.git"
mkdir -p "$work/cfg"
cat > "$work/cfg/providers.yaml" <<'YAML'
apiVersion: launchplane.dev/v1
kind: Provider
metadata: {name: local}
spec:
  type: fake
  fake: {path: ../world.json}
YAML
for i in $(seq 0 "$n"); do
  cat > "$work/cfg/p$i.yaml" <<YAML
apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: p$i}
spec:
  driver: generic-web
  image: ghcr.io/acme/p$i
  port: 8080
---
apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: p$i-prod}
spec:
  product: p$i
  lane: prod
  image: ghcr.io/acme/p$i@sha256:1111111111111111111111111111111111111111111111111111111111111111
  deploy: {provider: local}
YAML
done
export LAUNCHPLANE_STATE="file://$work/remote.git" HOME="$work"
cd "$work"
# the first apply creates the state repository
"$lp" apply --config cfg --target p0/prod --auto-approve >/dev/null 2>&1
before=$(git -C remote.git rev-list --count main)
start=$(date +%s.%N)
for i in $(seq 1 "$n"); do
  home="$work"
  if [ -z "${SHARED_CACHE:-}" ]; then home="$work/home$i"; mkdir -p "$home"; fi
  HOME="$home" XDG_CACHE_HOME="$home/.cache" "$lp" apply --config cfg --target "p$i/prod" --auto-approve -o json > "out$i.json" 2> "err$i.txt" &
done
fail=0
for job in $(jobs -p); do wait "$job" || fail=$((fail + 1)); done
end=$(date +%s.%N)
after=$(git -C remote.git rev-list --count main)
landed=0 retries=0
for i in $(seq 1 "$n"); do
  if grep -q '"outcome":"success"' "out$i.json"; then landed=$((landed + 1)); fi
  r=$(grep -o '"state_retries":[0-9]*' "out$i.json" | cut -d: -f2 || true)
  retries=$((retries + ${r:-0}))
done
commits=$((after - before))
printf 'appliers=%d landed=%d failed=%d commits=%d retries=%d retries/commit=%s wall=%.2fs\n' \
  "$n" "$landed" "$fail" "$commits" "$retries" \
  "$(awk -v r="$retries" -v c="$commits" 'BEGIN { if (c > 0) printf "%.2f", r / c; else print "-" }')" \
  "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')"
if [ "$fail" -gt 0 ]; then
  for i in $(seq 1 "$n"); do [ -s "err$i.txt" ] && grep -h 'launchplane:' "err$i.txt" | head -1; done | sort | uniq -c
fi
