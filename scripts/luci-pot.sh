#!/usr/bin/env bash
# Writes luci-app-x0tta6bl4/po/templates/x0tta6bl4.pot: every _('...') string of the app's JavaScript and the
# menu titles, in LuCI's template format (what LuCI's build/i18n-scan.pl collects), sorted, without duplicates.
# Usage: bash scripts/luci-pot.sh [--check]   (--check: exit 1 if the committed file is out of date)
set -euo pipefail
cd "$(dirname "$0")/.."
app=luci-app-x0tta6bl4
out=$app/po/templates/x0tta6bl4.pot
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --check|'') ;;
  *) echo "luci-pot: unknown argument $1 (--help)" >&2; exit 2 ;;
esac
new=$(node -e '
  const fs = require("fs"), path = require("path"), app = process.argv[1];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  const strings = new Map();
  const add = (s, where) => { if (!strings.has(s)) strings.set(s, where); };
  for (const f of walk(`${app}/htdocs`).filter((f) => f.endsWith(".js")).sort()) {
    const src = fs.readFileSync(f, "utf8");
    for (const m of src.matchAll(/\b_\(\s*(\x27(?:[^\x27\\]|\\.)*\x27|"(?:[^"\\]|\\.)*")\s*[,)]/g)) {
      const q = m[1][0], body = m[1].slice(1, -1);
      add(body.replace(q === "\x27" ? /\\\x27/g : /\\"/g, q), path.relative(app, f));
    }
  }
  const menu = JSON.parse(fs.readFileSync(`${app}/root/usr/share/luci/menu.d/luci-app-x0tta6bl4.json`, "utf8"));
  for (const node of Object.values(menu)) if (node.title) add(node.title, "root/usr/share/luci/menu.d/luci-app-x0tta6bl4.json");
  const esc = (s) => s.replace(/\\/g, "\\\\").replace(/"/g, "\\\"");
  let out = "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\"\n";
  for (const s of [...strings.keys()].sort()) out += `\n#: ${strings.get(s)}\nmsgid "${esc(s)}"\nmsgstr ""\n`;
  process.stdout.write(out);
' "$app")
if [ "${1:-}" = --check ]; then
  [ "$new" = "$(cat "$out" 2>/dev/null)" ] || { echo "luci-pot: $out is out of date: run bash scripts/luci-pot.sh" >&2; exit 1; }
  exit 0
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$new" >"$out"
echo "luci-pot: $(grep -c '^msgid "[^"]' "$out") strings in $out"
