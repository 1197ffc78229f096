#!/bin/bash
# A CoFUsfl cluster run under Slurm: a private RabbitMQ broker and the coordinator (`cofusfl run`) on the first node
# of the allocation, one worker (`cofusfl node`) on every node, each with the node's GPUs as placement slots.
#
#   sbatch docs/slurm-example.sh run.conf
#
# run.conf must set cofusfl.runtime.clock = real and cofusfl.cluster.enabled = on; everything else (min-nodes, the
# broker's address, node names) is set here with -D. Every process reads the same file: same seed, data and clients.
#SBATCH --job-name=cofusfl
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
set -euo pipefail

CONFIG=${1:?usage: sbatch docs/slurm-example.sh CONFIG}
REPO=${COFUSFL_REPO:-$SLURM_SUBMIT_DIR}
COFUSFL=${COFUSFL:-"dotnet $REPO/src/Cli/bin/Release/net10.0/cofusfl.dll"}
FIRST=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
NODES=$SLURM_JOB_NUM_NODES
GPUS=${SLURM_GPUS_PER_NODE:-1}
GPUS=${GPUS##*:}                                    # "a100:1" -> "1"

# Credentials and a virtual host of this job only; every process inherits them (they are never logged).
export COFUSFL_BROKER_USER=cofusfl
export COFUSFL_BROKER_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export COFUSFL_BROKER_VHOST=job-$SLURM_JOB_ID
BROKER_DIR=${TMPDIR:-/tmp}/cofusfl-broker-$SLURM_JOB_ID

# 1. The broker, on the first node, reachable from the others (scripts/broker.sh listens on 127.0.0.1 only, for tests
#    and single machines). Set COFUSFL_BROKER_URI to use a site broker instead (one virtual host per job).
if [ -z "${COFUSFL_BROKER_URI:-}" ]; then
  PORT=${COFUSFL_BROKER_PORT:-5672}
  mkdir -p "$BROKER_DIR"/{home,mnesia,log}
  umask 077
  cat > "$BROKER_DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = $PORT
default_user = $COFUSFL_BROKER_USER
default_pass = $COFUSFL_BROKER_PASSWORD
default_vhost = $COFUSFL_BROKER_VHOST
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
log.console = false
log.file.level = warning
max_message_size = 134217728
CONF
  echo '[].' > "$BROKER_DIR/enabled_plugins"
  BROKER_ENV=(HOME="$BROKER_DIR/home" RABBITMQ_NODENAME="cofusfl-$SLURM_JOB_ID@$FIRST" RABBITMQ_MNESIA_BASE="$BROKER_DIR/mnesia"
              RABBITMQ_LOG_BASE="$BROKER_DIR/log" RABBITMQ_CONFIG_FILE="$BROKER_DIR/rabbitmq.conf"
              RABBITMQ_ENABLED_PLUGINS_FILE="$BROKER_DIR/enabled_plugins" RABBITMQ_PID_FILE="$BROKER_DIR/broker.pid")
  RMQ=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
  srun --nodes=1 --ntasks=1 -w "$FIRST" env "${BROKER_ENV[@]}" bash -c \
    "'$RMQ/rabbitmq-server' -detached && '$RMQ/rabbitmqctl' -q wait --timeout 120 '$BROKER_DIR/broker.pid'"
  trap 'srun --nodes=1 --ntasks=1 -w "$FIRST" env "${BROKER_ENV[@]}" "$RMQ/rabbitmqctl" -q stop || true' EXIT
  COFUSFL_BROKER_URI="amqp://$FIRST:$PORT/$COFUSFL_BROKER_VHOST"
fi
echo "broker: $COFUSFL_BROKER_URI"

COMMON=(-D "cofusfl.cluster.broker.uri=\"$COFUSFL_BROKER_URI\"" -D "cofusfl.cluster.min-nodes=$NODES" -D "cofusfl.cluster.enabled=on"
        -D "cofusfl.runtime.clock=real")

# 2. One worker per node (the first node included), named after its host, with its GPUs as slots.
srun --nodes="$NODES" --ntasks-per-node=1 --kill-on-bad-exit=0 bash -c \
  "exec $COFUSFL node --config '$CONFIG' ${COMMON[*]@Q} -D cofusfl.cluster.node.name=\$(hostname -s) \
     -D cofusfl.cluster.node.gpus=$GPUS -D cofusfl.cluster.node.cpu-slots=0 -D 'cofusfl.torch.device=\"cuda\"'" &
WORKERS=$!

# 3. The coordinator (split server, aggregator, coordinator) on the first node; it waits for all workers, runs every
#    round, writes the run folder, and tells the workers the run is over (they exit 0).
srun --nodes=1 --ntasks=1 --overlap -w "$FIRST" \
  $COFUSFL run "$CONFIG" "${COMMON[@]}" -D cofusfl.cluster.node.name=coordinator --quiet
wait "$WORKERS"
