#!/usr/bin/env bash
# Out-of-tree plugin test: build the sample bash plugin against the plugin.h
# that `cmake --install` puts in a prefix (nothing else of runlet), drop it
# into a fresh plugin dir, and judge with the already built runlet: `runlet
# run` on a job and `runlet plugin-test` on the plugin's cases. No rebuild.
# usage: test_oot.sh BUILD_DIR OOT_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
OOT=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL $*"; exit 1; }

cmake --install "$BUILD" --prefix "$tmp/prefix" >/dev/null ||
	fail "cmake --install $BUILD failed"
[ -f "$tmp/prefix/include/runlet/plugin.h" ] ||
	fail "the install has no include/runlet/plugin.h"
echo "ok   plugin.h installed"

mkdir "$tmp/plugins"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -fvisibility=hidden \
	-I"$tmp/prefix/include" "$OOT/bash_plugin.c" -o "$tmp/plugins/runlet-bash.so" ||
	fail "the sample plugin does not build against the installed header"
chmod 0644 "$tmp/plugins/runlet-bash.so"
exports=$(nm -D --defined-only "$tmp/plugins/runlet-bash.so" | awk '$2 == "T" {print $3}')
[ "$exports" = runlet_plugin_entry ] ||
	fail "the plugin exports more than runlet_plugin_entry: $exports"
echo "ok   plugin built out of tree, one exported symbol"

cat > "$tmp/config.yaml" <<YAML
plugin_dir: $tmp/plugins
runners:
  sh:
    plugin: bash
    mem_limit: 128m
    run_timeout: 5
YAML
cat > "$tmp/job.json" <<'JSON'
{"student_id": 7, "problem_id": 42, "course_id": 3, "lang": "sh",
 "code": "read -r a b\nif [ \"$a\" = 0 ]; then nope; exit 127; fi\necho $((a + b))\n",
 "run_data": [{"test_num": 1, "input": "1 2\n", "output": "3"},
              {"test_num": 2, "input": "5 7\n"},
              {"test_num": 3, "input": "0 1\n"}]}
JSON
"$BUILD/runlet" run --config "$tmp/config.yaml" "$tmp/job.json" > "$tmp/result.json" ||
	fail "runlet run exited $?"
python3 - "$tmp/result.json" <<'PY' || fail "runlet run: unexpected result: $(cat "$tmp/result.json")"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["test_cases"]
assert [x["test_num"] for x in t] == [1, 2, 3], t
assert t[0]["status"] == "OK" and t[0]["output"] == "3", t[0]
assert t[1]["output"] == "12", t[1]
assert t[2]["status"] == "RE", t[2]
assert t[2]["output"].startswith("a command the script runs is not installed\n"), t[2]
assert "main.sh: line 2: nope: command not found" in t[2]["output"], t[2]
assert "/tmp/" not in t[2]["output"], t[2]
assert r["status"] == "RE", r["status"]
PY
echo "ok   runlet run judges with the new plugin"

"$BUILD/runlet" plugin-test --config "$tmp/config.yaml" bash "$OOT/cases" ||
	fail "runlet plugin-test on the out-of-tree plugin"
echo "ok   runlet plugin-test with the new plugin"
