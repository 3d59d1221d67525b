#!/bin/sh
# The layout's rules, checked on every build of the tests (make layout, make lint, make test):
#   - the arrows run one way: lib/ includes nothing of ours but lib/; storage/ includes lib/ only;
#     commands/ never includes bot/;
#   - a *_internal.h is included only from files in its own folder;
#   - no .c file is over 800 lines;
#   - SQLite stays inside its engine: only storage/db_sqlite.c (and db_faults.c, the test VFS)
#     include <sqlite3.h> or use sqlite3_*/SQLITE_* in code; every other storage file speaks the
#     neutral statement API of storage/db_internal.h, and lib/, commands/, bot/ only db.h;
#   - PostgreSQL likewise: only its engine (storage/db_pg.c, db_pg_admin.c, db_pg_wait.c,
#     db_pg_internal.h)
#     includes <libpq-fe.h> or calls PQ*.
# Prints every line that breaks a rule, then a summary; exits 1 when any did.
set -u
cd "$(dirname "$0")/.."
MAX_LINES=${MAX_LINES:-800}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# file:line:#include "dir/..." for every quoted include in the product's sources.
find lib storage commands bot -name '*.[ch]' | sort | xargs grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' |
while IFS= read -r hit; do
  file=${hit%%:*}
  inc=$(printf '%s\n' "$hit" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
  case "$file" in
    lib/*) allowed="lib/" ;;
    storage/*) allowed="lib/ storage/" ;;
    commands/*) allowed="lib/ storage/ commands/" ;;
    bot/*) allowed="lib/ storage/ commands/ bot/" ;;
  esac
  ok=0
  for a in $allowed; do
    case "$inc" in "$a"*) ok=1 ;; esac
  done
  case "$inc" in
    */*) ;;
    *) echo "$hit: include root-relative (\"folder/file.h\"), not \"$inc\"" >>"$out"; continue ;;
  esac
  [ $ok = 1 ] || echo "$hit: ${file%%/*}/ may not include ${inc%%/*}/ (the arrows run one way)" >>"$out"
  case "$inc" in
    *_internal.h)
      [ "$(dirname "$inc")" = "$(dirname "$file")" ] ||
        echo "$hit: $inc is internal to $(dirname "$inc")/" >>"$out" ;;
  esac
done

find lib storage commands bot -name '*.c' | sort | while IFS= read -r f; do
  n=$(wc -l <"$f")
  [ "$n" -le "$MAX_LINES" ] || echo "$f: $n lines (the ceiling is $MAX_LINES: split it by concern)" >>"$out"
done

# Comments may name SQLite; code may not. Strip /* … */ on one line, comment lines, // tails.
find lib storage commands bot -name '*.[ch]' | sort | while IFS= read -r f; do
  case "$f" in storage/db_sqlite.c | storage/db_faults.c) continue ;; esac
  sed -e 's|/\*.*\*/||g' -e 's|^[[:space:]]*/\*.*||' -e 's|^[[:space:]]*\*.*||' -e 's|//.*||' "$f" |
    grep -nE '#[[:space:]]*include[[:space:]]*<sqlite3\.h>|\bsqlite3(_[a-z0-9_]+)?\b|\bSQLITE_[A-Z]' |
    while IFS= read -r hit; do
      echo "$f:$hit: SQLite outside its engine (storage/db_sqlite.c): use storage/db_internal.h" >>"$out"
    done
done

find lib storage commands bot -name '*.[ch]' | sort | while IFS= read -r f; do
  case "$f" in storage/db_pg.c | storage/db_pg_admin.c | storage/db_pg_wait.c | storage/db_pg_internal.h) continue ;; esac
  sed -e 's|/\*.*\*/||g' -e 's|^[[:space:]]*/\*.*||' -e 's|^[[:space:]]*\*.*||' -e 's|//.*||' "$f" |
    grep -nE '#[[:space:]]*include[[:space:]]*<libpq-fe\.h>|\bPQ[a-z][A-Za-z]*\(|\bPG(conn|result)\b' |
    while IFS= read -r hit; do
      echo "$f:$hit: libpq outside its engine (storage/db_pg*.c): use storage/db_internal.h" >>"$out"
    done
done

n=$(wc -l <"$out")
if [ "$n" -gt 0 ]; then
  cat "$out"
  echo "layout: $n broken rules"
  exit 1
fi
echo "layout: ok ($(find lib storage commands bot -name '*.[ch]' | wc -l) files, arrows one way, none over $MAX_LINES lines)"
