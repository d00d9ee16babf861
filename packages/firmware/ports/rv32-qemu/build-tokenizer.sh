#!/usr/bin/env bash
# Builds tp-tokenizer-rv32.elf: test/tokenizer.c (the tokenizer harness of ts/tokenizer*.test.ts) for bare-metal
# rv32imafc with Debian's riscv64-unknown-elf-gcc + picolibc (semihosting file I/O), flags as build.sh's.
# Usage: build-tokenizer.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/rv32}
mkdir -p "$out"
riscv64-unknown-elf-gcc -march=rv32imafc -mabi=ilp32f -std=c99 -O2 \
  -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math \
  --specs=picolibc.specs --oslib=semihost --crt0=semihost -Tpicolibc.ld \
  -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 \
  -Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x1000000 \
  -o "$out/tp-tokenizer-rv32.elf" \
  "$root"/test/tokenizer.c "$root"/src/tokenizer.c "$root"/src/tp_status.c "$root"/src/numerics.c \
  "$root"/src/image.c "$root"/src/image_views.c "$root"/src/image_story.c "$root"/src/crc32c.c -lm
echo "$out/tp-tokenizer-rv32.elf"
