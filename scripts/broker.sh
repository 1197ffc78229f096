#!/usr/bin/env bash
# A private RabbitMQ broker on loopback for cluster-mode tests and local multi-process runs.
# It never touches the system broker: its own node name, ports, data, logs, config and Erlang cookie live under DIR.
#
#   scripts/broker.sh start DIR [PORT]   start (or restart, keeping users and vhost) and wait until it accepts AMQP;
#                                        prints the broker URI (amqp://127.0.0.1:PORT/VHOST) on stdout
#   scripts/broker.sh stop DIR           stop it (SIGTERM, then SIGKILL after 20 s); a no-op when not running
#   scripts/broker.sh kill DIR           kill -9 (to test that clients survive a broker crash)
#   scripts/broker.sh status DIR         exit 0 when running
#
# Credentials for the first start come from COFUSFL_BROKER_USER / COFUSFL_BROKER_PASSWORD / COFUSFL_BROKER_VHOST
# (defaults cofusfl / cofusfl / cofusfl); they are written to DIR/rabbitmq.conf (mode 600), never printed.
set -euo pipefail

die() { echo "broker.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: broker.sh start|stop|kill|status DIR [PORT]"
cmd=$1; DIR=$(mkdir -p "$2" && cd "$2" && pwd); PORT=${3:-}
RMQ_BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
[ -x "$RMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server not found in $RMQ_BIN (install the Debian package rabbitmq-server; scripts/bootstrap.sh does)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Everything the Debian scripts would read from /etc or /var is redirected under DIR.
setup_env() {
  # shellcheck disable=SC1091
  source "$DIR/broker.env"
  export HOME="$DIR/home" RABBITMQ_NODENAME="$NODENAME" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$PORT" \
    RABBITMQ_DIST_PORT="$DIST_PORT" RABBITMQ_MNESIA_BASE="$DIR/mnesia" RABBITMQ_LOG_BASE="$DIR/log" \
    RABBITMQ_PID_FILE="$DIR/broker.pid" RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config" \
    RABBITMQ_LOGS="$DIR/log/broker.log" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

running() { [ -f "$DIR/broker.pid" ] && kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null; }

case "$cmd" in
  start)
    if [ ! -f "$DIR/broker.env" ]; then
      [ -n "$PORT" ] || PORT=$(free_port)
      # Unique per directory, so several private brokers (and the system one) can coexist.
      NODENAME="cofusfl-$(printf '%s' "$DIR" | cksum | cut -d' ' -f1)@localhost"
      printf 'PORT=%s\nDIST_PORT=%s\nNODENAME=%s\nVHOST=%s\n' "$PORT" "$(free_port)" "$NODENAME" "${COFUSFL_BROKER_VHOST:-cofusfl}" > "$DIR/broker.env"
      mkdir -p "$DIR/home" "$DIR/mnesia" "$DIR/log"
      : > "$DIR/rabbitmq-env.conf"
      echo '[].' > "$DIR/enabled_plugins"          # no management plugin: no extra listeners
      echo '[].' > "$DIR/advanced.config"
      umask 077
      {
        echo "listeners.tcp.default = 127.0.0.1:$PORT"
        echo "default_user = ${COFUSFL_BROKER_USER:-cofusfl}"
        echo "default_pass = ${COFUSFL_BROKER_PASSWORD:-cofusfl}"
        echo "default_vhost = ${COFUSFL_BROKER_VHOST:-cofusfl}"
        echo "default_permissions.configure = .*"
        echo "default_permissions.read = .*"
        echo "default_permissions.write = .*"
        echo "loopback_users = none"
        echo "log.console = false"
        echo "log.file.level = warning"
        # Envelopes are chunked by the transport; this bounds one AMQP message well above any chunk size used.
        echo "max_message_size = 134217728"
      } > "$DIR/rabbitmq.conf"
    fi
    setup_env
    if running; then echo "amqp://127.0.0.1:$PORT/$VHOST"; exit 0; fi
    rm -f "$DIR/broker.pid"
    "$RMQ_BIN/rabbitmq-server" -detached >"$DIR/log/start.out" 2>&1 || die "rabbitmq-server failed to start; see $DIR/log"
    if ! "$RMQ_BIN/rabbitmqctl" -n "$NODENAME" -q wait --timeout 90 "$DIR/broker.pid" >"$DIR/log/await.out" 2>&1; then
      tail -20 "$DIR/log/broker.log" >&2 2>/dev/null || true
      cat "$DIR/log/await.out" >&2
      die "broker $NODENAME did not start on 127.0.0.1:$PORT; logs in $DIR/log"
    fi
    echo "amqp://127.0.0.1:$PORT/$VHOST"
    ;;
  stop|kill)
    [ -f "$DIR/broker.env" ] || exit 0
    setup_env
    running || exit 0
    pid=$(cat "$DIR/broker.pid")
    if [ "$cmd" = kill ]; then kill -9 "$pid"; else kill -TERM "$pid"; fi
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  status)
    [ -f "$DIR/broker.env" ] || exit 1
    setup_env
    running
    ;;
  *) die "unknown command '$cmd' (start|stop|kill|status)" ;;
esac
