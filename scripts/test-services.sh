#!/usr/bin/env bash
# Start or stop every service the tests need: each scripts/services.d/*.sh
# takes start|stop and keeps its state under build/services/.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: test-services.sh start|stop}
rc=0
for s in scripts/services.d/*.sh; do
	[ -e "$s" ] || continue
	bash "$s" "$action" || rc=$?
done
exit $rc
