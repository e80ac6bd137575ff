#!/usr/bin/env bash
# Installs orch into a temporary prefix, builds examples/external_plugin against the
# installed SDK with find_package(orch), and runs a sweep with it through the installed
# orch, which must find its own built-in plugins without any environment variable.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/external_plugin" -B "$work/ext" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/ext" -j2 >/dev/null
plugin=$(find "$work/ext" -name 'softmax_regression.so' -print -quit)
test -n "$plugin" || { echo "FAIL: the external plugin was not built"; exit 1; }

unset ORCH_PLUGIN_PATH
listing=$("$work/prefix/bin/orch" plugins --plugin-dir "$(dirname "$plugin")")
for expected in "backend cpu" "dataset synthetic" "model mlp" "model softmax_regression" "bias"; do
  grep -q "$expected" <<<"$listing" || { echo "FAIL: 'orch plugins' lacks '$expected'"; echo "$listing"; exit 1; }
done
if grep -q "refused" <<<"$listing"; then echo "FAIL: a plugin was refused"; echo "$listing"; exit 1; fi

cat >"$work/exp.toml" <<'TOML'
[experiment]
name = "external"
[backend]
plugin = "cpu"
threads = 1
[dataset]
plugin = "synthetic"
samples = 256
val_samples = 64
[model]
plugin = "softmax_regression"
[train]
epochs = 1
batch_size = 16
[sweep]
"model.bias" = [true, false]
TOML
"$work/prefix/bin/orch" run "$work/exp.toml" --db "$work/runs.db" --plugin-dir "$(dirname "$plugin")"
ok=$(sqlite3 "$work/runs.db" "SELECT count(*) FROM runs WHERE status = 'ok'")
[ "$ok" = 2 ] || { echo "FAIL: expected 2 ok runs, got $ok"; exit 1; }
echo "external plugin built against the installed SDK and ran 2 runs ok"
