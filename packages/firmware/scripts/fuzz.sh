#!/usr/bin/env bash
# The libFuzzer targets (test/fuzz/fuzz_*.c), built with Debian clang under ASan + UBSan into build/fuzz —
# never part of the published firmware build.
#   fuzz.sh build                      builds every target (skips those already newer than their sources)
#   fuzz.sh run SECONDS [TARGET...]    replays test/fuzz/regressions/<target>/, then fuzzes each target for
#                                      SECONDS from its committed seeds (new inputs go to build/fuzz/corpus);
#                                      a crash leaves build/fuzz/artifacts/<target>/crash-* and exits 1
#   fuzz.sh cov [TARGET...]            line coverage of the corpora (clang -fprofile-instr-generate, llvm-cov)
# TP_FUZZ_JOBS (default 2): targets run at once. Targets: frame link serve image rom sampler tokenizer ring.
set -euo pipefail
fw="$(cd "$(dirname "$0")/.." && pwd)"
out="${TP_FUZZ_OUT:-$fw/build/fuzz}"
all=(frame link serve image rom sampler tokenizer ring)
cc="${CC_FUZZ:-clang}"
core=(src/tp_status.c src/crc32c.c src/numerics.c src/image.c src/image_views.c src/image_story.c src/tokenizer.c src/kv_cache.c src/stage.c src/board.c src/kernels/ansi/qmatmul.c src/kernels/opt/qmatmul.c
  src/link/cobs.c src/link/frame.c src/link/link.c src/link/hello.c src/link/messages.c src/sampler.c src/serve.c src/calibrate.c)
ring=(src/ring.c src/standalone.c src/standalone_tok.c src/sink.c)
rom=(ports/posix/loader.c ports/posix/rom.c ports/posix/stub.c ports/posix/flash_write.c ports/posix/regs.c ports/posix/md5.c)
flags=(-std=c99 -D_POSIX_C_SOURCE=200809L -DTP_KERNELS_OPT=1 "-DTP_FUZZ_DATA=\"$fw/test/fuzz/data\"" -g -O1
  -ffp-contract=off -fno-fast-math -fno-omit-frame-pointer -Wall -Wextra -Werror)

sources() { # the sources of target $1
  local s=(test/fuzz/fuzz_$1.c "${core[@]}")
  [ "$1" = rom ] && s+=("${rom[@]}")
  [ "$1" = ring ] && s+=("${ring[@]}")
  echo "${s[@]}"
}

build_one() { # target, output, sanitizer/profile flags...
  local t=$1 bin=$2
  shift 2
  local src
  read -r -a src <<<"$(sources "$t")"
  local newest
  newest=$(cd "$fw" && ls -t "${src[@]}" src/*.h src/link/*.h ports/posix/*.h | head -1)
  if [ -x "$bin" ] && [ "$bin" -nt "$fw/$newest" ] && [ "$bin" -nt "$0" ]; then return 0; fi
  local libs=(-lm)
  [ "$t" = rom ] && libs+=(-lz)
  (cd "$fw" && "$cc" "${flags[@]}" "$@" "${src[@]}" -o "$bin.tmp" "${libs[@]}") && mv "$bin.tmp" "$bin"
}

build() {
  mkdir -p "$out"
  local pids=() t
  for t in "$@"; do
    local extra=() # ring: stories compute; the kernels' loops give no coverage worth their callbacks
    [ "$t" = ring ] && extra=("-fsanitize-coverage-ignorelist=$fw/test/fuzz/compute.ignorelist")
    build_one "$t" "$out/fuzz_$t" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all "${extra[@]}" &
    pids+=($!)
    if [ ${#pids[@]} -ge "${TP_FUZZ_JOBS:-2}" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
}

run_one() { # target seconds
  local t=$1 secs=$2 bin="$out/fuzz_$1" reg="$fw/test/fuzz/regressions/$1"
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
  local log="$out/logs/$t.log"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    "$bin" -runs=0 "$reg"/* >"$out/logs/$t.regressions.log" 2>&1 || {
      echo "FUZZ REGRESSION $t: a committed reproducer in $reg fails again — log: $out/logs/$t.regressions.log" >&2
      return 1
    }
  fi
  # niced: in npm test other suites' timers (a paced line, a PTY board) run beside it
  if ! nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "$fw/test/fuzz/corpus/$t" >"$log" 2>&1; then
    local crash
    crash=$(ls -t "$out/artifacts/$t"/* 2>/dev/null | head -1)
    echo "FUZZ CRASH $t: reproducer ${crash:-?} — replay: $bin $crash; log: $log" >&2
    return 1
  fi
  local final
  final=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 || true)
  echo "fuzz $t: $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}') runs; ${final#*	}"
}

run() {
  local secs=$1
  shift
  local targets=("$@")
  [ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
  build "${targets[@]}"
  local pids=() names=() fail=0 i t
  for t in "${targets[@]}"; do
    run_one "$t" "$secs" &
    pids+=($!) names+=("$t")
    if [ ${#pids[@]} -ge "${TP_FUZZ_JOBS:-2}" ]; then wait "${pids[0]}" || fail=1; pids=("${pids[@]:1}"); fi
  done
  for i in "${pids[@]}"; do wait "$i" || fail=1; done
  return $fail
}

cov() {
  local targets=("$@") t
  [ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
  mkdir -p "$out/cov"
  for t in "${targets[@]}"; do
    local bin="$out/cov/fuzz_$t"
    build_one "$t" "$bin" -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping
    local dirs=("$fw/test/fuzz/corpus/$t")
    [ -d "$out/corpus/$t" ] && dirs+=("$out/corpus/$t")
    LLVM_PROFILE_FILE="$out/cov/$t.profraw" "$bin" -runs=0 "${dirs[@]}" >/dev/null 2>&1
    llvm-profdata merge -sparse "$out/cov/$t.profraw" -o "$out/cov/$t.profdata"
    echo "== $t"
    llvm-cov report "$bin" -instr-profile="$out/cov/$t.profdata" | grep -E '^(Filename|src/|ports/|TOTAL)' || true
  done
}

cmd=${1:-run}
shift || true
case "$cmd" in
build) build "${@:-${all[@]}}" ;;
run) run "${1:-600}" "${@:2}" ;;
cov) cov "$@" ;;
*) echo "usage: fuzz.sh build|run SECONDS [TARGET...]|cov [TARGET...]" >&2; exit 2 ;;
esac
