#!/usr/bin/env bash
# `buf breaking` for proto/ against main: on a branch, against where it left main (its merge base);
# on main itself (CI's clean clone), against main's previous commit, so the change being landed is
# what gets checked. The older protos come from `git archive`, which works in worktrees too.
# A deliberate break is let through only when a commit being checked says why in a
# `Buf-Breaking-Change: <reason>` trailer; the findings are still printed.
set -euo pipefail
main=$(git rev-parse --verify -q main || git rev-parse --verify -q origin/main || true)
if [ -z "$main" ]; then
  against=""
elif [ "$(git rev-parse HEAD)" = "$main" ]; then
  against=$(git rev-parse --verify -q 'HEAD~1' || true)
else
  against=$(git merge-base HEAD "$main" || true)
fi
if [ -z "$against" ] || [ -z "$(git ls-tree "$against" proto)" ]; then
  echo "buf breaking: no earlier commit with proto/ to compare against" >&2
  exit 0
fi
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git archive "$against" buf.yaml proto | tar -x -C "$old"
reason=$(git log --format=%B "$against..HEAD" | sed -n 's/^Buf-Breaking-Change: *//p' | head -1)
status=0
npx --no-install buf breaking --against "$old" --error-format text || status=$?
# buf exits 100 when it found breaking changes; anything else is a failure to check at all.
if [ "$status" = 100 ] && [ -n "$reason" ]; then
  echo "buf breaking: allowed by a Buf-Breaking-Change trailer since $against: $reason" >&2
  exit 0
fi
exit "$status"
