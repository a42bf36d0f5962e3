#!/usr/bin/env bash
# A C program under LD_PRELOAD of the drop-in malloc maps the libraries it
# maps without it and the preload library, nothing else: no C++ runtime (the
# library's operator new finds that only when a C++ program's allocation
# fails) and no libnuma (the platform loads it at the first NUMA call, which
# the malloc never makes). Each would cost a C program's peak RSS a megabyte
# or so. The library's dynamic section names neither (nor does anything load
# them later).
# Usage: preload_c_program_test.sh <liballoy_malloc.so> [asan|tsan|valgrind]
source "$(dirname "$0")/preload_lib.sh"
preload_require /bin/cat /usr/bin/readelf

# The shared libraries a C program (cat) maps, by file name, one a line.
mapped_libraries() {
  /bin/cat /proc/self/maps | awk '$6 ~ /\.so/ { n = split($6, part, "/"); print part[n] }' | sort -u
}
export -f mapped_libraries

own=$(mapped_libraries)
if [[ -z $own || $own == *libstdc++* || $own == *libnuma* ]]; then
  echo "FAIL cat maps no library, or the C++ runtime or libnuma of its own: $own"
  exit 1
fi
# What the library's dynamic section brings (and what that brings): the C
# library alone, or with a sanitizer's runtime in the ubsan build.
brought=$(ldd "$preload_library" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
  xargs -r realpath | xargs -r -n1 basename)
preload_expect "a C program maps its own libraries, the preload and what its dynamic section names only" \
  "$(printf '%s\n%s\n%s\n' "$own" "$PRELOAD_NAME" "$brought" | sed '/^$/d' | sort -u)" mapped_libraries

needed=$(/usr/bin/readelf -d "$preload_library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
if [[ -z $needed || $needed == *libstdc++* || $needed == *libnuma* ]]; then
  echo "FAIL $PRELOAD_NAME's dynamic section names the C++ runtime or libnuma (or nothing): $needed"
  preload_failures=$((preload_failures + 1))
else
  echo "ok   $PRELOAD_NAME needs only: $needed"
fi
preload_finish
