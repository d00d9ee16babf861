#!/usr/bin/env bash
# lint:c — every C source and header of the firmware (src/, ports/, test/) is formatted as .clang-format says,
# by Debian's clang-format (scripts/ensure-toolchains.sh installs it; another version may format differently).
#   lint-c.sh          checks (clang-format --dry-run --Werror): lists each difference, exits 1 if any
#   lint-c.sh --fix    formats the files in place
set -euo pipefail
fw="$(cd "$(dirname "$0")/.." && pwd)"
cd "$fw"
if ! command -v clang-format >/dev/null; then
  echo "lint:c needs clang-format: sudo apt-get install -y clang-format (or run scripts/ensure-toolchains.sh)" >&2
  exit 1
fi
mapfile -t files < <(find src ports test -name '*.[ch]' -not -path '*/build/*' | sort)
if [ "${1:-}" = --fix ]; then
  exec clang-format -i "${files[@]}"
fi
exec clang-format --dry-run --Werror "${files[@]}"
