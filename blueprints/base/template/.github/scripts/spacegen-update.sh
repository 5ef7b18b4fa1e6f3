#!/usr/bin/env bash
# Moves this project to the newest spacegen blueprint on the branch spacegen/update and opens
# one pull request for it, or updates the one already open. .github/workflows/spacegen-update.yml
# runs it in a fresh checkout of the default branch; it needs spacegen, git, jq and gh (with
# GH_TOKEN) on the PATH, and pushes to the remote `origin`.
#
#   spacegen outdated   0: nothing is behind, stop   1: behind, go on   else: fail
#   spacegen update     0: updated   4: updated, conflicts left as git markers   else: fail
#
# The branch is pushed anew (--force) on each run while the project is behind, unless someone
# added a commit to it: then it is left alone until that pull request is merged or closed.
set -euo pipefail

branch=spacegen/update
trailer=Spacegen-Update
base=$(git branch --show-current)
if [ -z "$base" ]; then
  echo "error: HEAD is not on a branch: check out the branch the pull request is for" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(spacegen --version)

status=0
spacegen outdated --format json >"$work/outdated.json" || status=$?
case $status in
  0) echo "The project is up to date with $version: nothing to do."; exit 0 ;;
  1) ;;
  *) echo "error: spacegen outdated failed (exit $status); nothing was pushed" >&2; exit "$status" ;;
esac

if git fetch -q origin "refs/heads/$branch" 2>/dev/null; then
  git log -1 --format=%B FETCH_HEAD >"$work/tip"
fi
if [ -s "$work/tip" ] && ! grep -q "^$trailer:" "$work/tip"; then
  echo "$branch holds a commit this workflow did not make: it is left alone until its pull request is merged or closed."
  exit 0
fi

git checkout -q -B "$branch"
status=0
spacegen update --defaults --format json >"$work/update.json" || status=$?
case $status in
  0 | 4) ;;
  *) echo "error: spacegen update failed (exit $status); nothing was pushed" >&2; exit "$status" ;;
esac

update="$work/update.json"
name=$(jq -r .blueprint "$update")
from=$(jq -r .from "$update")
to=$(jq -r .to "$update")
title="Update to $name $to with spacegen"
if [ "$status" = 4 ]; then
  title="$title (conflicts to resolve)"
fi

git add -A
if git diff --cached --quiet; then
  echo "spacegen update changed no file: nothing to push."
  exit 0
fi
if [ -z "$(git config user.email || true)" ]; then
  git config user.name "github-actions[bot]"
  git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
fi
git commit -q -m "$title" -m "$version: $name $from → $to." -m "$trailer: $name $to"
git push -q --force origin "HEAD:refs/heads/$branch"

body() {
  echo "\`spacegen update --defaults\` ($version) moves this project from **$name $from** to **$name $to**."
  jq -r 'if .mode == "two-way" then "Edited files were merged two-way (\(.two_way_because // "the base could not be rendered again")): every place where an edit and the new version differ is a conflict." else "Edited files were merged three-way, keeping the edits." end' "$update"
  echo
  echo "### Pins moved"
  echo
  jq -r 'if (.packages | length) == 0 then "None." else
      "| file | package | now | after this |", "|---|---|---|---|",
      (.packages[] | "| `\(.file)` | `\(.name)`\(if (.marker // "") != "" then " (`\(.marker)`)" else "" end) | \(.project // "—") | \(.blueprint // "—") |")
    end' "$work/outdated.json"
  if [ "$status" = 4 ]; then
    echo
    echo "### Conflicts to resolve before merging"
    echo
    echo "spacegen could not merge these edits with the new version. Each place holds git's conflict markers (\`<<<<<<< ours\` is the project's, \`>>>>>>> theirs\` the new version's): resolve every one and commit on this branch before merging."
    echo
    jq -r '.files[] | .path as $path | .conflicts[] | "- `\($path):\(.)`"' "$update"
  fi
  jq -r 'if (.new_variables | length) > 0 then "", "### New variables, at their defaults", "", (.new_variables[] | "- `\(.name)` = `\(.value | if type == "string" then . else tojson end)`") else empty end' "$update"
  jq -r 'if (.dropped_answers | length) > 0 then "", "### Answers no longer asked for", "", (.dropped_answers[] | "- `\(.)`") else empty end' "$update"
  echo
  echo "### Files"
  echo
  jq -r '.files[] | "- \(.action) `\(.path)`"' "$update"
  echo
  echo "Made by \`.github/scripts/spacegen-update.sh\` (run by \`.github/workflows/spacegen-update.yml\`), which pushes this branch anew while the project is behind, unless a commit of yours is on it."
}
body >"$work/body.md"

number=$(gh pr list --head "$branch" --base "$base" --state open --json number --jq '.[0].number // empty')
if [ -n "$number" ]; then
  gh pr edit "$number" --title "$title" --body "$(cat "$work/body.md")"
  echo "Updated pull request #$number: $title"
else
  gh pr create --head "$branch" --base "$base" --title "$title" --body "$(cat "$work/body.md")"
  echo "Opened a pull request: $title"
fi
