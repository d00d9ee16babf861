#!/usr/bin/env bash
# Builds tp-tokenizer-rv32.elf: test/tokenizer.c (the tokenizer harness of ts/tokenizer*.test.ts) for bare-metal
# rv32imafc with Debian's riscv64-unknown-elf-gcc + picolibc (semihosting file I/O), flags as build.sh's (cc.sh).
# Usage: build-tokenizer.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/rv32}
mkdir -p "$out"
# shellcheck source=cc.sh
. "$here/cc.sh"
rv32_cc "$out/tp-tokenizer-rv32.elf" \
  "$root"/test/tokenizer.c "$root"/src/tokenizer.c "$root"/src/tp_status.c "$root"/src/numerics.c \
  "$root"/src/image.c "$root"/src/image_views.c "$root"/src/image_story.c "$root"/src/crc32c.c
echo "$out/tp-tokenizer-rv32.elf"
