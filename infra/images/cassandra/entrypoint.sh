#!/bin/bash
# Single-node Cassandra 5.0 in the foreground, tuned to start fast for tests:
#  - token/gossip shortcuts (initial_token=0, num_tokens=1, skip_wait_for_gossip_to_settle=0, no bootstrap)
#  - memtable_row_overhead_computation_step=100 (the default 100000 costs ~2 s of startup measuring memory)
#  - unsafesystem=true (system keyspace writes are not fsynced: faster schema changes, not crash-safe)
#  - C1-only JIT (-XX:TieredStopAtLevel=1) roughly halves startup on 2 cores; set CASSANDRA_FAST_JIT=0 to disable
# Env: CASSANDRA_CLUSTER_NAME (collab-test), CASSANDRA_BROADCAST_RPC_ADDRESS (127.0.0.1),
#      CASSANDRA_HEAP (1G), CASSANDRA_JVM_EXTRA_OPTS (appended), CASSANDRA_FAST_JIT (1: -XX:TieredStopAtLevel=1).
set -euo pipefail
CH=/opt/cassandra
CONF=$CH/conf
CLUSTER_NAME=${CASSANDRA_CLUSTER_NAME:-collab-test}
BROADCAST_RPC_ADDRESS=${CASSANDRA_BROADCAST_RPC_ADDRESS:-127.0.0.1}
HEAP=${CASSANDRA_HEAP:-1G}

sed -e "s|@CLUSTER_NAME@|${CLUSTER_NAME}|g" -e "s|@BROADCAST_RPC_ADDRESS@|${BROADCAST_RPC_ADDRESS}|g" \
  "$CONF/cassandra.yaml.template" >"$CONF/cassandra.yaml"
mkdir -p /var/lib/cassandra/{data,commitlog,saved_caches,hints,cdc_raw}

mapfile -t JVM17 < <(grep -v '^\s*#' "$CONF/jvm17-server.options" | grep -v '^\s*$' | tr -s ' ' '\n' | grep -v '^$')
JAMM=$(ls "$CH"/lib/jamm-*.jar | head -n1)
JIT=()
[ "${CASSANDRA_FAST_JIT:-1}" = 1 ] && JIT=(-XX:TieredStopAtLevel=1)

# shellcheck disable=SC2086
exec java \
  -Xms"$HEAP" -Xmx"$HEAP" -Xss256k -XX:+HeapDumpOnOutOfMemoryError -XX:+PerfDisableSharedMem \
  "${JIT[@]}" \
  "${JVM17[@]}" \
  -javaagent:"$JAMM" \
  -Djava.net.preferIPv4Stack=true \
  -Dcassandra-foreground=yes \
  -Dcassandra.config=file://$CONF/cassandra.yaml \
  -Dcassandra.storagedir=/var/lib/cassandra \
  -Dcassandra.logdir=/var/log/cassandra \
  -Dlogback.configurationFile=$CONF/logback.xml \
  -Dcassandra.skip_wait_for_gossip_to_settle=0 \
  -Dcassandra.initial_token=0 \
  -Dcassandra.num_tokens=1 \
  -Dcassandra.load_ring_state=false \
  -Dcassandra.superuser_setup_delay_ms=0 \
  -Dcassandra.migration_task_wait_in_seconds=1 \
  -Dcassandra.memtable_row_overhead_computation_step=100 \
  -Dcassandra.unsafesystem=true \
  ${CASSANDRA_JVM_EXTRA_OPTS:-} \
  -cp "$CH/lib/*" \
  org.apache.cassandra.service.CassandraDaemon
