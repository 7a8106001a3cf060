#!/usr/bin/env bash
# dockerd for runlet's docker tests: `dockerd.sh start|stop`, idempotent.
# start: when no engine answers on /var/run/docker.sock, start dockerd with no
#        bridge network and no iptables rules (it creates no private-range
#        network; builds that need the network use --network host), its pidfile
#        and log under build/services/dockerd/, and wait for /_ping.
# stop:  stop the dockerd this script started (never one it did not start).
set -euo pipefail
cd "$(dirname "$0")/../.."
state=build/services/dockerd
sock=/var/run/docker.sock
action=${1:?usage: dockerd.sh start|stop}

ping() {
	curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

case "$action" in
start)
	if ping; then
		exit 0
	fi
	if ! command -v dockerd >/dev/null; then
		echo "dockerd.sh: dockerd not installed (apt-get install docker.io)" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "dockerd.sh: no engine answers on $sock and starting dockerd needs root" >&2
		exit 1
	fi
	mkdir -p "$state"
	if [ -f "$state/dockerd.pid" ] && kill -0 "$(cat "$state/dockerd.pid")" 2>/dev/null; then
		echo "dockerd.sh: dockerd $(cat "$state/dockerd.pid") runs but does not answer yet" >&2
	else
		rm -f "$state/dockerd.pid"
		flags=(--bridge=none --iptables=false --pidfile "$PWD/$state/dockerd.pid")
		if dockerd --help 2>&1 | grep -q -- '--ip6tables'; then
			flags+=(--ip6tables=false)
		fi
		setsid dockerd "${flags[@]}" >>"$state/dockerd.log" 2>&1 </dev/null &
		echo $! >"$state/dockerd.started"
	fi
	for _ in $(seq 1 120); do
		if ping; then
			exit 0
		fi
		sleep 0.5
	done
	echo "dockerd.sh: dockerd did not answer on $sock within 60 s; see $state/dockerd.log" >&2
	tail -n 20 "$state/dockerd.log" >&2 || true
	exit 1
	;;
stop)
	[ -f "$state/dockerd.started" ] || exit 0
	pid=$(cat "$state/dockerd.pid" 2>/dev/null || cat "$state/dockerd.started")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
	fi
	rm -f "$state/dockerd.started"
	;;
*)
	echo "usage: dockerd.sh start|stop" >&2
	exit 2
	;;
esac
