#!/usr/bin/env bash
# A throwaway single-node Ceph cluster for the rbd tests: one monitor and one
# memstore OSD on 127.0.0.1 (free ports), no mgr, no cephx, every file under
# DIR, stopped by pid file.
#   ceph-cluster.sh start DIR [FEATURES]  - start; pool "rbd" ready; prints
#                                            the seconds it took. FEATURES is
#                                            "default" (exclusive-lock and
#                                            the rest, Ceph's default) or
#                                            "layering"
#   ceph-cluster.sh stop DIR               - SIGKILL both daemons (data is in RAM)
# Every command then takes -c DIR/ceph.conf.
# CEPH_CLUSTER_OWNER=PID: a watcher stops the cluster once PID is gone, so
# a test killed by a timeout leaves no daemons behind.
set -euo pipefail

cmd=${1:?usage: ceph-cluster.sh start|stop DIR [default|layering]}
dir=${2:?usage: ceph-cluster.sh start|stop DIR [default|layering]}
features=${3:-default}

stop() {
	local f pid
	for f in "$dir"/mon.pid "$dir"/osd.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -9 "$pid" 2>/dev/null || true
		# Reap by waiting for it to vanish: it is not our child.
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
		rm -f "$f"
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
	local t0 port fsid uuid conf c
	t0=$(date +%s.%N)
	if [ -e "$dir/ceph.conf" ]; then
		echo "ceph-cluster.sh: $dir already holds a cluster" >&2
		exit 1
	fi
	mkdir -p "$dir"/mon "$dir"/osd "$dir"/run
	port=$(free_port)
	fsid=$(cat /proc/sys/kernel/random/uuid)
	uuid=$(cat /proc/sys/kernel/random/uuid)
	conf=$dir/ceph.conf
	cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$port]
ms bind msgr1 = false
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon mgr mkfs grace = 3600
paxos propose interval = 0.01
osd objectstore = memstore
memstore device bytes = 1073741824
run dir = $dir/run
log file = $dir/\$name.log
pid file = $dir/\$type.pid
keyring = $dir/keyring
osd data = $dir/osd
mon data = $dir/mon

[mon]
admin socket = $dir/run/\$name.asok

[osd]
admin socket = $dir/run/\$name.asok

[client]
# Many clients at once (rbd, vblkd): no admin socket, no shared log.
admin socket =
log file = /dev/null
CONF
	if [ "$features" = layering ]; then
		echo "rbd default features = layering" >>"$conf"
	fi
	c=(-c "$conf")
	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon "allow *" >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' \
		--cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null
	ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
	ceph-mon "${c[@]}" -i a
	timeout 20 ceph "${c[@]}" osd new "$uuid" >/dev/null
	ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>&1
	ceph-osd "${c[@]}" -i 0 2>/dev/null
	for _ in $(seq 200); do
		timeout 10 ceph "${c[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up' && break
		sleep 0.05
	done
	timeout 10 ceph "${c[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up' ||
		{ echo "ceph-cluster.sh: the OSD did not come up" >&2; exit 1; }
	timeout 20 ceph "${c[@]}" osd pool create rbd 8 8 >/dev/null 2>&1
	timeout 20 rbd "${c[@]}" pool init rbd
	echo "ceph cluster up in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
}

# Stops the cluster once the owner exits (or the cluster was stopped).
watch_owner() {
	local owner=$1
	[ -n "$owner" ] || return 0
	setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -f "$2/mon.pid" ]; do sleep 1; done
		exec bash "$3" stop "$2"' watch "$owner" "$dir" "$(realpath "$0")" \
		</dev/null >/dev/null 2>&1 &
}

case $cmd in
start) start; watch_owner "${CEPH_CLUSTER_OWNER:-}" ;;
stop) stop ;;
*) echo "ceph-cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac
