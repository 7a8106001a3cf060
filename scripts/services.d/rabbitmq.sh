#!/usr/bin/env bash
# Test RabbitMQ for `runlet serve`'s tests: its own node, loopback only, state
# under build/services/rabbitmq. `rabbitmq.sh start|stop|restart|status`.
# The URLs the tests use are written to build/services/rabbitmq.env:
# RUNLET_TEST_AMQP_URL (plain, port 5673) and RUNLET_TEST_AMQPS_URL (TLS on
# the next port, a throwaway CA in RUNLET_TEST_AMQP_CACERT).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD/build/services/rabbitmq
envfile=$PWD/build/services/rabbitmq.env
port=${RUNLET_TEST_AMQP_PORT:-5673}
tls_port=$((port + 1))
pidfile=$root/server.pid

make_tls() {
	# A throwaway CA and a server certificate for localhost.
	local d=$root/tls
	[ -s "$d/server.pem" ] && [ -s "$d/ca.pem" ] && return 0
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=runlet test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 3650 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
	chmod 600 "$d"/*.key
}

amqp_ready() {
	# The broker answers the AMQP 0-9-1 protocol header with a
	# connection.start method frame (frame type 1).
	local b
	{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	printf 'AMQP\0\0\011\001' >&3
	b=$(timeout 2 head -c1 <&3 | od -An -tu1 | tr -d ' ') || b=
	exec 3<&- 3>&-
	[ "$b" = 1 ]
}

running() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Processes of this node (the wrapper script and the Erlang VM), found by
# the node's own HOME in their command line or environment: left over from
# a wrapper that died, they would keep the port.
node_pids() {
	local p
	for p in /proc/[0-9]*; do
		if { tr '\0' '\n' < "$p/cmdline"; } 2>/dev/null | grep -qxF -- "$root/home" ||
		   { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qxF -- "HOME=$root/home"; then
			echo "${p#/proc/}"
		fi
	done
}

start() {
	if running && amqp_ready; then
		return 0
	fi
	# a half-dead node (its wrapper gone) would hold the port: clear it
	stop
	if ! [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
		echo "rabbitmq.sh: rabbitmq-server is not installed (apt-get install rabbitmq-server, or bash scripts/setup.sh test)" >&2
		return 1
	fi
	mkdir -p "$root/mnesia" "$root/log" "$root/home"
	echo '[].' > "$root/enabled_plugins"
	make_tls
	cat > "$root/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
listeners.ssl.1 = 127.0.0.1:$tls_port
ssl_options.cacertfile = $root/tls/ca.pem
ssl_options.certfile = $root/tls/server.pem
ssl_options.keyfile = $root/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
loopback_users.guest = true
log.console = false
log.file.level = warning
disk_free_limit.absolute = 20MB
CONF
	# An empty env file keeps the system's /etc/rabbitmq/rabbitmq-env.conf out.
	: > "$root/rabbitmq-env.conf"
	(
		export HOME=$root/home
		export RABBITMQ_NODENAME=runlet-test@localhost
		export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		export RABBITMQ_NODE_PORT=$port
		export RABBITMQ_DIST_PORT=$((port + 20000))
		export ERL_EPMD_ADDRESS=127.0.0.1
		export RABBITMQ_CONF_ENV_FILE=$root/rabbitmq-env.conf
		export RABBITMQ_CONFIG_FILE=$root/rabbitmq.conf
		export RABBITMQ_ENABLED_PLUGINS_FILE=$root/enabled_plugins
		export RABBITMQ_MNESIA_BASE=$root/mnesia
		export RABBITMQ_LOG_BASE=$root/log
		export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		cd "$root"
		setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >"$root/log/stdout.log" 2>&1 &
		echo $! > "$pidfile"
	)
	for _ in $(seq 1 120); do
		if amqp_ready; then
			printf 'RUNLET_TEST_AMQP_PORT=%s\nRUNLET_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:%s/\nRUNLET_TEST_AMQPS_URL=amqps://guest:guest@localhost:%s/\nRUNLET_TEST_AMQP_CACERT=%s\n' \
				"$port" "$port" "$tls_port" "$root/tls/ca.pem" > "$envfile"
			return 0
		fi
		if ! running; then
			echo "rabbitmq.sh: the broker exited during start; see $root/log/" >&2
			tail -n 20 "$root/log/stdout.log" >&2 || true
			return 1
		fi
		sleep 0.25
	done
	echo "rabbitmq.sh: no AMQP on 127.0.0.1:$port after 30 s; see $root/log/" >&2
	return 1
}

stop() {
	local pids left
	pids="$( { [ -f "$pidfile" ] && cat "$pidfile"; node_pids; } | sort -u)"
	rm -f "$pidfile"
	[ -n "$pids" ] || return 0
	# The wrapper script turns SIGTERM into an orderly broker shutdown; the
	# VM itself shuts down in order on SIGTERM too.
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 1 120); do
		left=
		for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
		[ -n "$left" ] || return 0
		sleep 0.25
	done
	for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
}

case ${1:-} in
start) start ;;
stop) stop ;;
restart) stop; start ;;
status) running && amqp_ready ;;
*) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
