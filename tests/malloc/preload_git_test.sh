#!/usr/bin/env bash
# git under LD_PRELOAD of the drop-in malloc: a repository of 2000 small
# files, two commits, gc and fsck, in a temporary directory with no network
# and no system or user configuration. Author and committer dates are fixed,
# so the object names match the run on the C library's malloc.
# Usage: preload_git_test.sh <liballoy_malloc.so> [asan|tsan|valgrind]
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/git

# git_workload <dir>: prints what the repository holds after each step.
git_workload() {
  local dir=$1 i
  rm -rf "$dir" && mkdir -p "$dir/repo"
  cd "$dir/repo"
  export HOME=$dir GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
  local git=(/usr/bin/git -c user.name=alloy -c user.email=alloy@example.invalid -c pack.threads=1
    -c gc.auto=0 -c init.defaultBranch=main)
  "${git[@]}" init -q .
  local filler
  filler=$(printf 'line %04d of the filler\n' $(seq 1 40))
  mkdir d{0..39}
  for i in {1..2000}; do
    printf 'file %d\n%s\n' "$i" "${filler:0:$((i % 300 + 10))}" >"d$((i % 40))/f$i.txt"
  done
  "${git[@]}" add -A
  "${git[@]}" commit -q -m "2000 files"
  for i in {1..2000..7}; do echo "changed $i" >>"d$((i % 40))/f$i.txt"; done
  rm d3/f3.txt d5/f5.txt
  "${git[@]}" add -A
  "${git[@]}" commit -q -m "every seventh file changed, two removed"
  "${git[@]}" gc -q
  "${git[@]}" fsck --full --strict 2>&1
  echo "commits $("${git[@]}" log --oneline | wc -l)"
  "${git[@]}" log --format='%H %s'
  "${git[@]}" ls-files | wc -l
  "${git[@]}" diff --stat HEAD~1 HEAD | tail -1
  "${git[@]}" count-objects -v | grep -E '^(count|in-pack|packs|prune-packable|garbage):'
  "${git[@]}" rev-parse HEAD^{tree}
}

preload_compare "git init, add, commit, gc, fsck" git_workload "$preload_work/git"
preload_finish
