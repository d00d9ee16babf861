# Sourced by build.sh and build-tokenizer.sh: rv32_cc OUT SOURCES... compiles and links a bare-metal rv32imafc
# program with Debian's riscv64-unknown-elf-gcc + picolibc (semihosting file I/O), with the firmware's numerics
# flags (C99, -Werror, no FMA contraction, no fast-math) and the QEMU virt memory map (2 MiB flash, 16 MiB RAM).
rv32_cc() {
  local out=$1
  shift
  riscv64-unknown-elf-gcc -march=rv32imafc -mabi=ilp32f -std=c99 -O2 \
    -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math \
    --specs=picolibc.specs --oslib=semihost --crt0=semihost -Tpicolibc.ld \
    -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 \
    -Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x1000000 \
    -o "$out" "$@" -lm
}
