#!/bin/sh
# Every C file follows the root .clang-format (STYLE.md §13). Prints the files that do not
# and exits 1. Fix with: clang-format -i $(git ls-files '*.c' '*.h')
set -u
cd "$(dirname "$0")/.." || exit 2
cf=$(command -v clang-format-14 || command -v clang-format) || { echo "clang-format not installed: skipped"; exit 0; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find lib emulator client tests -name '*.[ch]'); do
    if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f"
        bad=1
    fi
done
[ $bad = 0 ] && echo "format: ok"
exit $bad
