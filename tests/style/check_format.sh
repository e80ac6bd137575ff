#!/usr/bin/env bash
# Every C++ file in the repository is what the checked-in .clang-format makes of it, so
# that a diff shows only what changed, never reflowed lines.
#   tests/style/check_format.sh SOURCE_DIR
# To fix what it reports: clang-format -i FILE (or `git clang-format` on a change).
set -euo pipefail
cd "${1:?usage: $0 SOURCE_DIR}"
command -v clang-format >/dev/null ||
  { echo "clang-format is not installed: scripts/install-deps.sh --tests installs it" >&2; exit 1; }
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o \( -name '*.cc' -o -name '*.h' \) -print)
fi
[[ ${#files[@]} -gt 0 ]] || { echo "no C++ files found under $PWD" >&2; exit 1; }
# One clang-format per file, on every core.
mapfile -t unformatted < <(printf '%s\0' "${files[@]}" |
  xargs -0 -n 8 -P "$(nproc)" sh -c \
    'for f; do clang-format --style=file "$f" | cmp -s - "$f" || echo "$f"; done' sh | sort)
if [[ ${#unformatted[@]} -gt 0 ]]; then
  echo "${#unformatted[@]} of ${#files[@]} files differ from clang-format's output:" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "fix: clang-format -i FILE ..." >&2
  exit 1
fi
echo "all ${#files[@]} C++ files are clang-formatted"
