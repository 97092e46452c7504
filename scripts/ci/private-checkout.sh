#!/usr/bin/env bash
# CI: the embedded default as a new user meets it in a container: root, the checkout under a
# directory no other user can enter (mode 0700, like /root). Clones the current commit there,
# installs and builds it, sets up the embedded database (`pnpm db:setup`), makes one real tool
# call over stdio, stops the database and removes the clone and everything the run created
# (the cluster under /var/lib/marketsage, and the copied binaries when this run made them).
# Exits non-zero on any failure; the database it started is stopped whatever happens.
#   bash scripts/ci/private-checkout.sh
set -euo pipefail

src=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$src" rev-parse HEAD)
system_dir=/var/lib/marketsage
started_at=$SECONDS
say() { printf '[private-checkout] %s\n' "$*" >&2; }

# Under root's home when root (what a user's checkout looks like), else the temp directory.
if [ "$(id -u)" = 0 ] && [ -d /root ]; then parent=/root; else parent=${TMPDIR:-/tmp}; fi
work=$(mktemp -d "$parent/ms-private-XXXXXX")
chmod 700 "$work"
clone="$work/marketsage"
data_dir="$clone/.data"

# What existed before, so cleanup removes only what this run created.
had_system_dir=$([ -d "$system_dir" ] && echo 1 || echo 0)
binaries_before=$(ls -d "$system_dir"/pg-* 2>/dev/null || true)

state_field() { # state_field <name>: a field of the clone's .data/pg.json, or nothing
  [ -f "$data_dir/pg.json" ] || return 0
  node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(s[process.argv[2]] ?? ""))' "$data_dir/pg.json" "$1"
}

cleanup() {
  local rc=$?
  set +e
  local pgdata bin
  pgdata=$(state_field pgdata)
  bin=$(state_field bin)
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    if ! (cd "$clone" && pnpm -s db:stop); then
      # db:stop itself failed: stop the server this run started by its pid (fast shutdown).
      pid=$(head -n 1 "$pgdata/postmaster.pid")
      say "pnpm db:stop failed; sending SIGINT to postmaster $pid"
      kill -INT "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      rc=1
    fi
  fi
  # The cluster, when it lives outside the clone (root: /var/lib/marketsage/data-<hash>/pg).
  case "$pgdata" in
    "$system_dir"/data-*/pg) rm -rf "$(dirname "$pgdata")" ;;
  esac
  # The binaries copy, when this run made it (another checkout may share an older one).
  case "$bin" in
    "$system_dir"/pg-*) printf '%s\n' "$binaries_before" | grep -qxF "$bin" || rm -rf "$bin" ;;
  esac
  if [ "$had_system_dir" = 0 ] && [ -d "$system_dir" ]; then rmdir "$system_dir" 2>/dev/null; fi
  rm -rf "$work"
  if [ "$rc" = 0 ]; then say "passed in $((SECONDS - started_at)) s"; else say "FAILED (exit $rc) after $((SECONDS - started_at)) s"; fi
  exit "$rc"
}
trap cleanup EXIT

say "cloning $commit into $clone (parent mode $(stat -c %a "$work"))"
git clone --quiet "$src" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"
cd "$clone"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  # The point of this run: the postgres user must not be able to enter the checkout.
  if runuser -u postgres -- test -x "$clone"; then say "the postgres user can enter $clone: not a private checkout"; exit 1; fi
fi

# Every command sees only the embedded default, with the data dir the README describes.
unset DATABASE_URL TEST_DATABASE_URL
export MARKETSAGE_DATA_DIR="$data_dir"

say "pnpm install"
pnpm install --frozen-lockfile --prefer-offline --reporter=silent
say "pnpm build"
pnpm -s build
say "pnpm db:setup --if-empty --scale tiny"
pnpm -s db:setup --if-empty --scale tiny

pgdata=$(state_field pgdata)
say "cluster in $pgdata, binaries in $(state_field bin)"
if [ "$(id -u)" = 0 ]; then
  case "$pgdata" in
    "$system_dir"/data-*/pg) ;;
    *) say "as root with a private checkout the cluster belongs under $system_dir, not $pgdata"; exit 1 ;;
  esac
fi

say "one tool call over stdio: customer-data search_customers limit=1"
out=$(pnpm exec mcp-inspector --cli node packages/customer-data/dist/main.js \
  -e MARKETSAGE_API_KEY=msk_demo_naija_retail_ai_agent -e "MARKETSAGE_DATA_DIR=$data_dir" \
  --method tools/call --tool-name search_customers --tool-arg limit=1)
printf '%s' "$out" | node -e '
  let raw = ""; process.stdin.on("data", (d) => (raw += d)).on("end", () => {
    const r = JSON.parse(raw);
    const customers = r.structuredContent?.customers;
    if (r.isError || !Array.isArray(customers) || customers.length !== 1 || !customers[0].id) {
      process.stderr.write(`[private-checkout] search_customers did not return one customer: ${raw.slice(0, 500)}\n`);
      process.exit(1);
    }
    process.stderr.write(`[private-checkout] search_customers returned ${customers[0].id}\n`);
  });'
