#!/usr/bin/env bash
# alloy's main job: runs every sample, then a short benchmark comparison of
# alloy against glibc malloc, mimalloc, jemalloc and tcmalloc (tools/bench.sh)
# and says where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."

samples=$(bazel query --noshow_progress 'kind(cc_binary, //samples/...)' 2>/dev/null | sort)
bazel build --noshow_progress $samples
for sample in $samples; do
  echo "== $sample"
  binary="bazel-bin/${sample#//}"
  binary="${binary/://}"
  "$binary"
done

if [[ -x tools/bench.sh ]]; then
  tools/bench.sh "$@"
fi
