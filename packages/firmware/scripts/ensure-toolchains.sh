#!/usr/bin/env bash
# Installs the Debian packages the firmware builds and tests need, only when missing (CI runs as root,
# non-interactively). Idempotent: a no-op on a machine that has them.
set -euo pipefail
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null || need+=(gcc)
command -v riscv64-unknown-elf-gcc >/dev/null || need+=(gcc-riscv64-unknown-elf)
[ -d /usr/lib/picolibc/riscv64-unknown-elf ] || need+=(picolibc-riscv64-unknown-elf)
command -v qemu-system-riscv32 >/dev/null || need+=(qemu-system-misc)
command -v xtensa-lx106-elf-gcc >/dev/null || need+=(gcc-xtensa-lx106)
command -v clang >/dev/null || need+=(clang) # the libFuzzer targets (scripts/fuzz.sh, ts/fuzz.test.ts): Debian clang brings libclang-rt-dev
command -v clang-format >/dev/null || need+=(clang-format) # lint:c (scripts/lint-c.sh)
command -v socat >/dev/null || need+=(socat) # linked PTY pairs for the serial adapter tests (transport-uart)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev) # the virtual ESP32-S3 ROM inflates compressed flash writes
command -v chromium >/dev/null || need+=(chromium) # the browser example's test in headless Chromium (examples/src/browser/chromium.test.ts)
if [ ${#need[@]} -eq 0 ]; then
  echo "firmware toolchains: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "firmware toolchains missing: ${need[*]} — install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
