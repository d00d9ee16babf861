#!/usr/bin/env bash
# What can be verified here without ESP-IDF (README, "What was verified here, and what was not"):
#  1. main/CMakeLists.txt's requirements, read as IDF's early pass reads them, for every IDF 5.1–6.2;
#  2. the app compiles with -Werror against stubs/, with only the headers of the components it requires
#     (as IDF lays them out in that version), in every topology;
#  3. a console on a protocol UART, or the old `driver` requirement on IDF 6, is refused at compile time;
#  4. sdkconfig.defaults* set only options the real Kconfig files have;
#  5. the portable core, as components/tinypipe lists it, compiles for Xtensa (Debian's xtensa-lx106-elf-gcc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
core=$(cd "$here/../../src" && pwd)
stubs=$here/stubs
versions="5.1 5.2 5.3 5.4 5.5 6.0 6.1 6.2"

# ---- 1. requirements per version ----
requires_of() { # <major.minor>: main's REQUIRES + PRIV_REQUIRES
  cmake -DIDF_VERSION_MAJOR="${1%.*}" -DIDF_VERSION_MINOR="${1#*.}" -DIDF_VERSION_PATCH=0 \
    -DCOMPONENT_DIR="$here/main" -P "$stubs/requires.cmake"
}

# Where a required component's headers are, in the stub layout of IDF <major.minor> (facts: stubs/README.md).
# driver/uart.h: component `driver` up to 5.2; `esp_driver_uart` from 5.3, which 5.3–5.5's `driver` still
# requires publicly; 6.x's `driver` has no UART.
include_dir() { # <major.minor> <component>
  local v=$1 c=$2 at_least_5_3=0 at_least_6=0
  [ "$(printf '%s\n5.3\n' "$v" | sort -V | head -1)" = 5.3 ] && at_least_5_3=1
  [ "${v%.*}" -ge 6 ] && at_least_6=1
  case $c in
  tinypipe) echo "$core" ;;
  esp_partition) echo "$stubs/esp_partition" ;;
  esp_timer) echo "$stubs/esp_timer" ;;
  esp_driver_uart) [ $at_least_5_3 = 1 ] && echo "$stubs/uart" ;;
  driver) [ $at_least_6 = 0 ] && echo "$stubs/uart" ;;
  *) echo "check.sh: no stub layout for component '$c'" >&2; return 1 ;;
  esac
  return 0
}

# ---- 2. the app, per version and topology ----
# the console as sdkconfig.defaults leaves it (IDF's default: UART0); the main task stack likewise
if grep -qx 'CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG=y' "$here/sdkconfig.defaults"; then
  console="-DCONFIG_ESP_CONSOLE_USB_SERIAL_JTAG=1 -DCONFIG_ESP_CONSOLE_UART_NUM=-1"
else
  console="-DCONFIG_ESP_CONSOLE_UART=1 -DCONFIG_ESP_CONSOLE_UART_NUM=0"
fi
stack=$(sed -n 's/^CONFIG_ESP_MAIN_TASK_STACK_SIZE=//p' "$here/sdkconfig.defaults")
# board 0's story settings as the Kconfig leaves them: every one "from the image" (docs/image-format.md §4c)
ring_story=(-DCONFIG_TINYPIPE_RING_PROMPT='""' -DCONFIG_TINYPIPE_RING_STEPS=0 -DCONFIG_TINYPIPE_RING_TEMPERATURE='""'
  -DCONFIG_TINYPIPE_RING_TOPP='""' -DCONFIG_TINYPIPE_RING_SEED=-1 -DCONFIG_TINYPIPE_RING_PARALLEL=0)
app_cc() { # <major.minor> "<components>" <flags...>: compiles main/*.c; the compiler's status
  local v=$1 comps=$2 inc=(-I"$stubs/common") c d
  shift 2
  for c in $comps; do
    d=$(include_dir "$v" "$c") || return 2
    [ -n "$d" ] && inc+=(-I"$d")
  done
  cc -std=gnu99 -fsyntax-only -Wall -Wextra -Werror -ffp-contract=off \
    -DTP_STUB_IDF_MAJOR="${v%.*}" -DTP_STUB_IDF_MINOR="${v#*.}" -DCONFIG_ESP_MAIN_TASK_STACK_SIZE="${stack:-3584}" \
    -DCONFIG_TINYPIPE_UART_BAUD=2000000 -DCONFIG_ESP_DEFAULT_CPU_FREQ_MHZ=240 -DCONFIG_TINYPIPE_DUAL_CORE=1 -DCONFIG_TINYPIPE_BOARD_INDEX=0 -DTP_KERNELS_OPT=1 \
    -DCONFIG_TINYPIPE_STREAMS=4 -DCONFIG_TINYPIPE_PRELOAD_KB=32 -DCONFIG_TINYPIPE_UART1_TX_PIN=17 \
    -DCONFIG_TINYPIPE_UART1_RX_PIN=18 -DCONFIG_TINYPIPE_UART2_TX_PIN=15 -DCONFIG_TINYPIPE_UART2_RX_PIN=16 \
    "${ring_story[@]}" "$@" "${inc[@]}" "$here"/main/*.c
}
# each topology the Kconfig offers: star; chain first, middle, last (host on UART0 or on an adapter at UART2)
roles=("" "-DCONFIG_TINYPIPE_CHAIN_ROLE_NEXT=1 -DCONFIG_TINYPIPE_UP_UART=0 -DCONFIG_TINYPIPE_DOWN_UART=2"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_NEXT=1 -DCONFIG_TINYPIPE_UP_UART=1 -DCONFIG_TINYPIPE_DOWN_UART=2"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_LAST=1 -DCONFIG_TINYPIPE_UP_UART=1 -DCONFIG_TINYPIPE_DOWN_UART=0"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_LAST=1 -DCONFIG_TINYPIPE_UP_UART=1 -DCONFIG_TINYPIPE_DOWN_UART=2"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_RING=1 -DCONFIG_TINYPIPE_RING_DRIVER=1 -DCONFIG_TINYPIPE_UP_UART=1 -DCONFIG_TINYPIPE_DOWN_UART=2"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_RING=1 -DCONFIG_TINYPIPE_UP_UART=1 -DCONFIG_TINYPIPE_DOWN_UART=2"
  "-DCONFIG_TINYPIPE_CHAIN_ROLE_RING=1 -DCONFIG_TINYPIPE_RING_DRIVER=1 -DCONFIG_TINYPIPE_RING_ALONE=1")
for v in $versions; do
  comps=$(requires_of "$v")
  for role in "${roles[@]}"; do
    # shellcheck disable=SC2086
    app_cc "$v" "$comps" $console $role
  done
  echo "IDF $v: requires $comps; the app compiles (star; chain first, middle, last; ring board 0, other, alone)"
done
# board 0 with every story setting given in the Kconfig (each overrides the image's)
saved=("${ring_story[@]}")
ring_story=(-DCONFIG_TINYPIPE_RING_PROMPT='"Once upon a time"' -DCONFIG_TINYPIPE_RING_STEPS=100
  -DCONFIG_TINYPIPE_RING_TEMPERATURE='"0.8"' -DCONFIG_TINYPIPE_RING_TOPP='"0.9"' -DCONFIG_TINYPIPE_RING_SEED=42
  -DCONFIG_TINYPIPE_RING_PARALLEL=2)
# shellcheck disable=SC2086
app_cc 6.0 "$(requires_of 6.0)" $console ${roles[5]}
ring_story=("${saved[@]}")
echo "esp-idf glue: compiles against the stubs for IDF $(echo $versions | tr ' ' ','), every topology"

# ---- 3. what must not compile ----
refused() { # <what> <expected error> <app_cc args...>: passes only when the compile fails with that error
  local what=$1 expect=$2 log
  shift 2
  if log=$(app_cc "$@" 2>&1); then
    echo "check.sh: $what compiled, but must be refused" >&2
    exit 1
  fi
  grep -q -- "$expect" <<<"$log" || { echo "check.sh: $what failed otherwise than expected:" >&2; echo "$log" >&2; exit 1; }
}
uart0_console="-DCONFIG_ESP_CONSOLE_UART=1 -DCONFIG_ESP_CONSOLE_UART_NUM=0"
comps60=$(requires_of 6.0)
# shellcheck disable=SC2086
{
  refused "star with the console on UART0" "console is on this board's upstream protocol UART" 6.0 "$comps60" $uart0_console
  refused "chain first board with the console on UART0" "upstream protocol UART" 6.0 "$comps60" $uart0_console ${roles[1]}
  refused "chain last board with the console on UART0" "downstream protocol UART" 6.0 "$comps60" $uart0_console ${roles[3]}
  refused "a chain with up = down" "two different UARTs" 6.0 "$comps60" $console \
    -DCONFIG_TINYPIPE_CHAIN_ROLE_NEXT=1 -DCONFIG_TINYPIPE_UP_UART=2 -DCONFIG_TINYPIPE_DOWN_UART=2
  refused "ring board 0 with the console on its up UART" "upstream protocol UART" 6.0 "$comps60" $uart0_console \
    -DCONFIG_TINYPIPE_CHAIN_ROLE_RING=1 -DCONFIG_TINYPIPE_RING_DRIVER=1 -DCONFIG_TINYPIPE_UP_UART=0 -DCONFIG_TINYPIPE_DOWN_UART=2
  app_cc 6.0 "$comps60" $uart0_console ${roles[2]} # a middle board leaves UART0 alone: the console may stay
  refused "REQUIRES driver on IDF 6" "driver/uart.h" 6.0 "${comps60/esp_driver_uart/driver}" $console
}
echo "refused at compile time: the console on a protocol UART (star, chain first, chain last, ring), up = down, REQUIRES driver on IDF 6"

# ---- 4. sdkconfig options ----
for f in "$here"/sdkconfig.defaults*; do
  for name in $(sed -n 's/^CONFIG_\([A-Z0-9_]*\)=.*/\1/p' "$f"); do
    grep -qx "$name" "$stubs/kconfig-names" || grep -q "config $name\$" "$here/components/tinypipe/Kconfig" ||
      { echo "check.sh: $(basename "$f") sets CONFIG_$name, which no checked Kconfig has (stubs/kconfig-names)" >&2; exit 1; }
  done
done
echo "sdkconfig.defaults*: every option is a real Kconfig option"

# ---- 5. the portable core for Xtensa: the sources the tinypipe component builds ----
srcs=$(cmake -DIDF_VERSION_MAJOR=6 -DIDF_VERSION_MINOR=0 -DIDF_VERSION_PATCH=0 -DWHAT=SRCS \
  -DCOMPONENT_DIR="$here/components/tinypipe" -P "$stubs/requires.cmake")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in $srcs; do
  xtensa-lx106-elf-gcc -std=c99 -O2 -mlongcalls -ffreestanding -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math \
    -DTP_KERNELS_OPT=1 -I"$here/xtensa-libc" -c "$f" -o "$out/$(realpath --relative-to="$core" "$f" | tr '/' '_').o"
done
echo "xtensa smoke build: $(ls "$out" | wc -l) objects (components/tinypipe's sources)"
