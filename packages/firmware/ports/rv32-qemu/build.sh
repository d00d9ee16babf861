#!/usr/bin/env bash
# Builds ports/rv32-qemu/tinypipe-rv32.elf with Debian's riscv64-unknown-elf-gcc + picolibc (semihosting).
# Usage: build.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/rv32}
mkdir -p "$out"
# shellcheck source=cc.sh
. "$here/cc.sh"
rv32_cc "$out/tinypipe-rv32.elf" -DTP_KERNELS_OPT=1 \
  "$here/main.c" "$root"/src/tp_status.c "$root"/src/crc32c.c "$root"/src/numerics.c "$root"/src/image.c "$root"/src/image_views.c "$root"/src/image_story.c "$root"/src/tokenizer.c "$root"/src/kv_cache.c "$root"/src/stage.c "$root"/src/board.c \
  "$root"/src/kernels/ansi/qmatmul.c "$root"/src/kernels/opt/qmatmul.c \
  "$root"/src/link/cobs.c "$root"/src/link/frame.c "$root"/src/link/link.c "$root"/src/link/hello.c "$root"/src/link/messages.c "$root"/src/sampler.c "$root"/src/serve.c \
  "$root"/src/calibrate.c "$root"/src/ring.c "$root"/src/sink.c "$root"/src/standalone.c "$root"/src/standalone_tok.c
echo "$out/tinypipe-rv32.elf"
