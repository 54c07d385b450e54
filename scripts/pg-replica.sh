#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL cluster, for trying the replica router
# (cetatea/core/dbrouter.py, docs/deploy.md) on one machine:
#
#   scripts/pg-replica.sh          # create (once) and start the replica on 127.0.0.1:5433
#   scripts/pg-replica.sh status   # print its replication state as the primary sees it
#   scripts/pg-replica.sh drop     # stop and remove it
#
# Debian's cluster tools: the primary is VERSION/main on port 5432 (trust auth on
# 127.0.0.1). The only change made to it is one pg_hba.conf line allowing replication
# connections from 127.0.0.1, followed by a reload (no restart). Needs root.
# In production the replica is on its own machine; the steps are the same
# (pg_basebackup -R from the primary, then start), see docs/deploy.md.
set -euo pipefail
VERSION="${PG_VERSION:-15}"
PRIMARY_PORT="${PG_PRIMARY_PORT:-5432}"
PORT="${PG_REPLICA_PORT:-5433}"
NAME="${PG_REPLICA_CLUSTER:-replica}"
HBA="/etc/postgresql/$VERSION/main/pg_hba.conf"
DATA="/var/lib/postgresql/$VERSION/$NAME"
LINE="host replication all 127.0.0.1/32 trust"

exists() { pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$VERSION/$NAME"; }

# A cluster left half made (no base backup in it) is removed and made again.
if exists && [ ! -f "$DATA/standby.signal" ]; then pg_dropcluster --stop "$VERSION" "$NAME"; fi

case "${1:-start}" in
status)
    psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc \
        "select application_name, state, sync_state, replay_lsn from pg_stat_replication"
    exit 0
    ;;
drop)
    if exists; then pg_dropcluster --stop "$VERSION" "$NAME"; fi
    exit 0
    ;;
start) ;;
*)
    echo "usage: $0 [start|status|drop]" >&2
    exit 2
    ;;
esac

if ! grep -qxF "$LINE" "$HBA"; then
    echo "$LINE" >>"$HBA"
    psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qAtc "select pg_reload_conf()" >/dev/null
fi

if ! exists; then
    # pg_createcluster writes the configuration under /etc/postgresql; the data directory
    # it creates is replaced by a base backup of the primary, with standby.signal and
    # primary_conninfo written by -R.
    pg_createcluster "$VERSION" "$NAME" -p "$PORT" >/dev/null
    find "$DATA" -mindepth 1 -delete
    su postgres -c "pg_basebackup -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -D $DATA \
        -d 'application_name=$NAME' -R -X stream --checkpoint=fast"
    # The same client authentication as the primary (a replica is a copy of it).
    cp "$HBA" "/etc/postgresql/$VERSION/$NAME/pg_hba.conf"
    # A replica answers reads while it replays; it must never accept writes.
    cat >"/etc/postgresql/$VERSION/$NAME/conf.d/replica.conf" <<EOF
hot_standby = on
hot_standby_feedback = on
listen_addresses = '127.0.0.1'
EOF
fi

pg_ctlcluster "$VERSION" "$NAME" start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then break; fi
    sleep 1
done
psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc "select 'replica in recovery: ' || pg_is_in_recovery()"
