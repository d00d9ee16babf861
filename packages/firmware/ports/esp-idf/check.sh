#!/usr/bin/env bash
# What can be verified here without ESP-IDF (see ports/esp-idf/README.md):
#  1. the app's glue compiles with -Werror against stubs/ (minimal ESP-IDF declarations);
#  2. the portable core compiles for Xtensa with Debian's xtensa-lx106-elf-gcc (-Werror, -mlongcalls).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
core=$(cd "$here/../../src" && pwd)
# each topology the Kconfig offers: star; chain, not last (up on UART0 or UART1); chain, last
for role in "" "-DCONFIG_TINYPIPE_CHAIN_ROLE_NEXT=1 -DCONFIG_TINYPIPE_UP_UART=0" \
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_NEXT=1 -DCONFIG_TINYPIPE_UP_UART=1" "-DCONFIG_TINYPIPE_CHAIN_ROLE_LAST=1 -DCONFIG_TINYPIPE_UP_UART=1"; do
  # shellcheck disable=SC2086
  cc -std=gnu99 -fsyntax-only -Wall -Wextra -Werror -ffp-contract=off \
    -DCONFIG_TINYPIPE_UART_BAUD=2000000 -DCONFIG_TINYPIPE_DUAL_CORE=1 -DCONFIG_TINYPIPE_BOARD_INDEX=0 -DTP_KERNELS_OPT=1 \
    -DCONFIG_TINYPIPE_STREAMS=4 -DCONFIG_TINYPIPE_PRELOAD_KB=32 -DCONFIG_TINYPIPE_DOWN_UART=2 -DCONFIG_TINYPIPE_UART1_TX_PIN=17 \
    -DCONFIG_TINYPIPE_UART1_RX_PIN=18 -DCONFIG_TINYPIPE_UART2_TX_PIN=15 -DCONFIG_TINYPIPE_UART2_RX_PIN=16 $role \
    -I"$here/stubs" -I"$core" "$here"/main/*.c
done
echo "esp-idf glue: compiles against the stubs (star, chain: first, middle, last)"

out=$(mktemp -d)
for f in crc32c.c numerics.c image.c stage.c kernels/ansi/qmatmul.c kernels/opt/qmatmul.c \
  link/cobs.c link/frame.c link/link.c link/messages.c sampler.c serve.c calibrate.c; do
  xtensa-lx106-elf-gcc -std=c99 -O2 -mlongcalls -ffreestanding -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math \
    -DTP_KERNELS_OPT=1 -I"$here/xtensa-libc" -c "$core/$f" -o "$out/$(basename "$f" .c)-$(echo "$f" | tr '/' '_').o"
done
echo "xtensa smoke build: $(ls "$out" | wc -l) objects"
rm -rf "$out"
