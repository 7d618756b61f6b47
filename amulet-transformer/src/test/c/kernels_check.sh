#!/usr/bin/env bash
# Checks the native kernels (src/main/c) without a JVM, on x86-64 and on aarch64 under qemu (issue 26):
# builds src/test/c/kernels_check.c with the library's C files natively (gcc) and for aarch64
# (aarch64-linux-gnu-gcc), with the flags of the Maven build, runs the x86-64 binary here and the aarch64 one under
# qemu-aarch64 twice: -cpu max (sdot present: the neon-dotprod variant chosen) and -cpu cortex-a53 (ARMv8.0: no sdot,
# only scalar and neon). Each run checks every variant against a float64 product and against the variants that sum
# in the same order; then the runs' result hashes are compared: every aarch64 result (scalar, neon, neon-dotprod)
# must be the bits of the x86-64 result of its class (scalar, avx2).
# Needs: gcc, aarch64-linux-gnu-gcc and qemu-user (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user), a JDK
# (JNI headers). Not part of the Maven build. Usage: amulet-transformer/src/test/c/kernels_check.sh [work dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../main/c"
out=${1:-$(mktemp -d)}
mkdir -p "$out"
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v java)")")")}
flags=(-std=c11 -O2 -ffp-contract=off -Wall -I"$java_home/include" -I"$java_home/include/linux")
files=("$here/kernels_check.c" "$src"/amulet_kernels.c "$src"/amulet_q4x8.c "$src"/amulet_float16.c
       "$src"/amulet_float32.c "$src"/amulet_kquants.c "$src"/amulet_q50.c "$src"/amulet_exp.c "$src"/amulet_attention.c
       "$src"/amulet_memory.c)
gcc "${flags[@]}" -o "$out/check-x86_64" "${files[@]}" -lm
aarch64-linux-gnu-gcc "${flags[@]}" -o "$out/check-aarch64" "${files[@]}" -lm
# the shared library of the Maven build, for aarch64 (-shared -fPIC -fvisibility=hidden): it must link too
aarch64-linux-gnu-gcc "${flags[@]}" -fPIC -shared -fvisibility=hidden -o "$out/libamulet_kernels-aarch64.so" \
    "$src"/amulet_*.c -lm
# optional: the aarch64 build with clang too (AARCH64_CLANG=clang-14 ...; it builds sdot through its own path)
if [ -n "${AARCH64_CLANG:-}" ]; then
    for f in "${files[@]}"; do
        "$AARCH64_CLANG" --target=aarch64-linux-gnu "${flags[@]}" -c -o "$out/clang-$(basename "$f").o" "$f"
    done
    aarch64-linux-gnu-gcc -o "$out/check-aarch64-clang" "$out"/clang-*.o -lm
fi
status=0
run() {
    local name=$1; shift
    if "$@" > "$out/$name.txt"; then :; else status=1; fi
    grep -v '^HASH' "$out/$name.txt" | tail -n 25
    echo "[$name] $(head -n 1 "$out/$name.txt"); $(tail -n 1 "$out/$name.txt")"
}
run x86_64 "$out/check-x86_64"
run aarch64-max qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$out/check-aarch64"
run aarch64-a53 qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu "$out/check-aarch64"
runs=(x86_64 aarch64-max aarch64-a53)
if [ -n "${AARCH64_CLANG:-}" ]; then
    run aarch64-clang-max qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$out/check-aarch64-clang"
    run aarch64-clang-a53 qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu "$out/check-aarch64-clang"
    runs+=(aarch64-clang-max aarch64-clang-a53)
fi
# the same case and class must give the same bits in every run
for r in "${runs[@]}"; do cat "$out/$r.txt"; done | awk '
    $1 == "HASH" { key = $2 " " $3 " " $4; seen[key]++;
                   if (key in hash) { if (hash[key] != $5) { bad++; if (bad <= 10) print "FAIL across runs: " key } }
                   else hash[key] = $5 }
    END { for (k in seen) if (seen[k] > 1) shared++;
          printf "across runs: %d results compared in bits (case and class seen in more than one run), %d differ\n",
                 shared, bad + 0; exit bad > 0 }' || status=1
for cls in scalar lanes8 exact; do
    line="  class $cls:"
    for r in "${runs[@]}"; do line="$line $r $(grep -c "^HASH [^ ]* [^ ]* $cls " "$out/$r.txt" || true),"; done
    echo "${line%,} results"
done
[ $status -eq 0 ] && echo "kernels_check: PASSED" || echo "kernels_check: FAILED"
exit $status
