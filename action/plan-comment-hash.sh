#!/usr/bin/env bash
# Prints the plan hash of pull request PR's Launchplane plan comment for a
# config dir: the first comment that starts with MARKER and was written by
# the identity that posts plans (the token's), as `launchplane plan
# --comment` finds it. Comments by anyone else are ignored, even when
# they carry the marker: anyone who can comment could otherwise choose
# the hash an apply is bound to.
#
#   action/plan-comment-hash.sh PR MARKER
#
# The token's identity, as the github provider finds it:
#   $LAUNCHPLANE_GITHUB_AUTHOR when set; else GET /user's login (a user's
#   token); else, when GET /user answers 403 "Resource not accessible by
#   integration" (an installation token) inside GitHub Actions,
#   github-actions[bot] (the GITHUB_TOKEN's); else an error.
#
# Env: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL (default
# https://api.github.com), LAUNCHPLANE_GITHUB_AUTHOR, GITHUB_ACTIONS.
# Exit: 0 and the hash (sha256:<64 hex>) on stdout; 3 when the pull
# request has no plan comment by that identity; 1 on any other failure.
# Messages go to stderr. The token never reaches a command line.
set -euo pipefail
pr=${1:?usage: plan-comment-hash.sh PR MARKER}
marker=${2:?usage: plan-comment-hash.sh PR MARKER}
: "${GITHUB_TOKEN:?GITHUB_TOKEN is not set}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
api="${GITHUB_API_URL:-https://api.github.com}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( umask 077 && printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" >"$tmp/auth" )

# get URL: the body in $tmp/body, the HTTP status on stdout.
get() {
  curl -sS -o "$tmp/body" -w '%{http_code}' -H @"$tmp/auth" \
    -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28" "$1"
}
message() { jq -r '.message // empty' "$tmp/body" 2>/dev/null || true; }

me="${LAUNCHPLANE_GITHUB_AUTHOR:-}"
if [ -z "$me" ]; then
  status=$(get "$api/user") || { echo "GET /user: the request failed" >&2; exit 1; }
  case "$status" in
    200) me=$(jq -r '.login // empty' "$tmp/body") ;;
    403)
      if [ "$(message)" != "Resource not accessible by integration" ]; then
        echo "GET /user: 403 $(message)" >&2
        exit 1
      fi
      if [ "${GITHUB_ACTIONS:-}" != true ]; then
        echo "the token is an installation token, whose login GitHub does not tell: set LAUNCHPLANE_GITHUB_AUTHOR to the login it comments as (a GitHub App's: <app-slug>[bot])" >&2
        exit 1
      fi
      me='github-actions[bot]'
      ;;
    *) echo "GET /user: $status $(message)" >&2; exit 1 ;;
  esac
  if [ -z "$me" ]; then
    echo "GET /user: GitHub answered no login" >&2
    exit 1
  fi
fi

others=0
for ((page = 1; ; page++)); do
  status=$(get "$api/repos/$GITHUB_REPOSITORY/issues/$pr/comments?per_page=100&page=$page") ||
    { echo "list comments of #$pr: the request failed" >&2; exit 1; }
  if [ "$status" != 200 ]; then
    echo "list comments of #$pr: $status $(message)" >&2
    exit 1
  fi
  [ "$(jq length "$tmp/body")" -gt 0 ] || break
  # The first comment by me that starts with the marker: the one plan
  # --comment keeps up to date.
  body=$(jq -r --arg m "$marker" --arg me "$me" \
    '[.[] | select((.user.login | ascii_downcase) == ($me | ascii_downcase) and (.body | startswith($m)))][0].body // ""' "$tmp/body")
  if [ -n "$body" ]; then
    hash=$(grep -oE 'launchplane:plan-hash sha256:[0-9a-f]{64}' <<<"$body" | tail -n 1 | cut -d' ' -f2) || true
    if [ -z "$hash" ]; then
      echo "pull request #$pr: the plan comment by $me holds no plan hash (the plan failed or had nothing to bind)" >&2
      exit 3
    fi
    echo "$hash"
    exit 0
  fi
  others=$((others + $(jq -r --arg m "$marker" '[.[] | select(.body | startswith($m))] | length' "$tmp/body")))
done
ignored=""
if [ "$others" -gt 0 ]; then
  ignored="; $others comment(s) by others carrying the marker were ignored"
fi
echo "pull request #$pr has no Launchplane plan comment for this config written by $me, the identity that posts plans$ignored" >&2
exit 3
