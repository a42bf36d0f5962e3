#!/bin/bash
# bench/malloc/programs/git_repo.sh — git for the drop-in malloc comparison:
#   git_repo.sh DIR FILES
# in DIR (emptied first): init, FILES small files in 40 directories, a
# commit, every seventh file changed, a second commit, gc, and a few reads.
# No system or user configuration, no network, fixed dates: every malloc's
# run makes the same objects and prints the same lines. Every git process
# inherits the preload from this shell.
set -euo pipefail
dir=$1 files=$2
rm -rf "$dir" && mkdir -p "$dir/repo" && cd "$dir/repo"
export HOME=$dir GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
git=(/usr/bin/git -c user.name=alloy -c user.email=alloy@example.invalid -c pack.threads=1 -c gc.auto=0
  -c init.defaultBranch=main)
"${git[@]}" init -q .
filler=$(printf 'line %04d of the filler\n' $(seq 1 40))
mkdir d{0..39}
for ((i = 1; i <= files; i++)); do
  printf 'file %d\n%s\n' "$i" "${filler:0:$((i % 300 + 10))}" >"d$((i % 40))/f$i.txt"
done
"${git[@]}" add -A
"${git[@]}" commit -q -m "$files files"
for ((i = 1; i <= files; i += 7)); do echo "changed $i" >>"d$((i % 40))/f$i.txt"; done
"${git[@]}" add -A
"${git[@]}" commit -q -m "every seventh file changed"
"${git[@]}" gc -q
"${git[@]}" log --format='%H %s'
"${git[@]}" ls-files | wc -l
"${git[@]}" diff --stat HEAD~1 HEAD | tail -1
"${git[@]}" rev-parse 'HEAD^{tree}'
