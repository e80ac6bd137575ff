#!/usr/bin/env bash
# Records the grid bench/search_replay replays: every configuration of
# bench/search_replay.toml run to the end once (about 3 to 5 minutes on 2 cores), into a
# fresh database; per-step timings are dropped (the replay reads epochs only), which keeps
# the file small enough to check in as bench/data/search_replay.db.
#
#   bench/search_replay.sh [ORCH] [DB]
set -euo pipefail
cd "$(dirname "$0")/.."
orch=${1:-build/bin/orch}
db=${2:-bench/data/search_replay.db}
[ -x "$orch" ] || { echo "bench/search_replay.sh: no orch binary at $orch (build first)" >&2; exit 2; }
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
"$orch" run bench/search_replay.toml --db "$db"
sqlite3 "$db" "DELETE FROM metrics; VACUUM;"
rm -rf "${db%.db}-logs"
echo "recorded $db; replay it with: build/bin/search_replay $db"
