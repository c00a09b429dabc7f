#!/usr/bin/env bash
# Fills engine/fuzz/corpus/ with seeds from the repository: PostgreSQL's isolation specs and our
# regression specs, their SQL blocks one per file, the lesson files, and the lessons' bug
# schedules. Safe to run again; libFuzzer keeps what it learns next to them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
postgres_specs="$root/tests/conformance/postgres/specs"
corpus="$here/corpus"
mkdir -p "$corpus"/{sql_parse,spec_parse,spec_run,lesson_parse,schedule_parse}

specs=("$root"/tests/pg/regressions/*.spec)
if [ -d "$postgres_specs" ]; then
    specs+=("$postgres_specs"/*.spec)
fi
n=0
for spec in "${specs[@]}"; do
    name="$(basename "$spec" .spec)"
    cp "$spec" "$corpus/spec_parse/$name"
    cp "$spec" "$corpus/spec_run/$name"
    # Each `{ ... }` block on one line is one SQL seed.
    grep -o '{[^}]*}' "$spec" | sed 's/^{ *//; s/ *}$//' | while IFS= read -r sql; do
        n=$((n + 1))
        printf '%s' "$sql" >"$corpus/sql_parse/$name-$n"
    done
done
for lesson in "$root"/lessons/*/lesson.toml; do
    name="$(basename "$(dirname "$lesson")")"
    cp "$lesson" "$corpus/lesson_parse/$name"
    sed -n 's/^bug_schedule = "\(.*\)"$/\1/p' "$lesson" >"$corpus/schedule_parse/$name"
done
echo "seeded: $(ls "$corpus"/* | wc -l) files in $corpus"
