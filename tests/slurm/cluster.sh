#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for tests/test_slurm.py and CI.
#
#   tests/slurm/cluster.sh start    install slurm-wlm + munge if missing (apt-get, needs root),
#                                   write slurm.conf, start munged, slurmctld, slurmd and wait
#                                   until the node is idle; prints the SLURM_CONF to export
#   tests/slurm/cluster.sh status   exit 0 when all daemons run and the node is up
#   tests/slurm/cluster.sh stop     cancel jobs, stop the daemons, remove the run folder
#   tests/slurm/cluster.sh env      print "export SLURM_CONF=..." for the client commands
#
# Everything but one symlink lives under $PROTRNN_SLURM_DIR (default /tmp/protrnn-slurm): its own munge key and
# socket, slurm.conf, state, spool and logs. The symlink /etc/slurm/slurm.conf -> that slurm.conf
# is made by start and removed by stop (an existing /etc/slurm/slurm.conf of a real cluster is left
# alone: start refuses). Every daemon listens on 127.0.0.1 only. Clients (sbatch, squeue, sinfo, the snakemake SLURM plugin) find the cluster
# through SLURM_CONF=$PROTRNN_SLURM_DIR/slurm.conf.
#
# Settings (environment): PROTRNN_SLURM_DIR, PROTRNN_SLURM_PORT (slurmctld port, default 16817;
# slurmd uses the next one), PROTRNN_SLURM_TIMEOUT (seconds to wait for the node, default 60),
# PROTRNN_SLURM_KEEP=1 (stop keeps the run folder, e.g. to read the logs).
#
# Exit codes: 0 ok, 1 usage or not running (status), 2 the daemons did not come up,
# 3 SLURM/munge not installed and cannot be installed (not root, no apt-get, apt-get failed).
set -euo pipefail

RUN_DIR=${PROTRNN_SLURM_DIR:-/tmp/protrnn-slurm}
CTLD_PORT=${PROTRNN_SLURM_PORT:-16817}
SLURMD_PORT=$((CTLD_PORT + 1))
TIMEOUT=${PROTRNN_SLURM_TIMEOUT:-60}
NODE=localhost
PARTITION=main
CONF="$RUN_DIR/slurm.conf"
MUNGE_DIR="$RUN_DIR/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket"
# srun inside a job does not see SLURM_CONF (the snakemake jobstep plugin drops SLURM_* variables)
# and falls back to the default path: point that at our slurm.conf while the cluster runs
SYSTEM_CONF=${PROTRNN_SLURM_SYSTEM_CONF:-/etc/slurm/slurm.conf}
export SLURM_CONF="$CONF"
# the daemons live in /usr/sbin, which a non-login root shell may lack
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf 'cluster.sh: %s\n' "$*" >&2; }

die() {
    local code=$1
    shift
    log "$*"
    exit "$code"
}

have_slurm() {
    local tool
    for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel srun; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
}

install_slurm() {
    have_slurm && return 0
    if [[ $(id -u) -ne 0 ]]; then
        die 3 "SLURM (slurm-wlm, munge) is not installed and installing it needs root" \
            "(run as root, or: sudo apt-get install slurm-wlm munge)"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die 3 "SLURM is not installed and there is no apt-get to install slurm-wlm and munge"
    log "installing slurm-wlm and munge with apt-get"
    local apt=(apt-get -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends)
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" install slurm-wlm munge >"$RUN_DIR/apt.log" 2>&1; then
        apt-get -o DPkg::Lock::Timeout=300 -qq update >>"$RUN_DIR/apt.log" 2>&1 || true
        "${apt[@]}" install slurm-wlm munge >>"$RUN_DIR/apt.log" 2>&1 ||
            die 3 "apt-get install slurm-wlm munge failed; see $RUN_DIR/apt.log:
$(tail -n 20 "$RUN_DIR/apt.log")"
    fi
    have_slurm || die 3 "slurm-wlm and munge were installed but a SLURM command is still missing"
}

pid_alive() {
    local file=$1 pid
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

node_state() {
    sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null | head -n 1 || true
}

daemons_alive() {
    pid_alive "$MUNGE_DIR/munged.pid" && pid_alive "$RUN_DIR/slurmctld.pid" &&
        pid_alive "$RUN_DIR/slurmd.pid"
}

is_up() {
    [[ -f $CONF ]] && daemons_alive || return 1
    case $(node_state) in
    idle* | mixed* | allocated* | completing*) return 0 ;;
    *) return 1 ;;
    esac
}

write_conf() {
    local cpus mem_mb real_mb overrides=""
    cpus=$(nproc)
    mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    # a bit below the real memory, or slurmd marks the node invalid
    real_mb=$((mem_mb * 9 / 10))
    if ((real_mb < 16384)); then
        # small machines (CI runners): declare 16 GB so rules asking 8 GB still schedule; memory
        # is not enforced here (no cgroups), and config_overrides stops slurmd from objecting
        real_mb=16384
        overrides="SlurmdParameters=config_overrides"
    fi
    cat >"$CONF" <<EOF
# Written by tests/slurm/cluster.sh: one node (this machine), loopback only, no accounting.
ClusterName=protrnn
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$RUN_DIR/state
SlurmdSpoolDir=$RUN_DIR/spool
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$RUN_DIR/slurmctld.log
SlurmdLogFile=$RUN_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# finished jobs stay visible to squeue for 2 hours (the plugin polls squeue, no slurmdbd; the test
# checks every job's final state there, after a run that takes 10 minutes or more on a busy machine)
MinJobAge=7200
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
$overrides
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    mkdir -p "$MUNGE_DIR"
    chmod 0700 "$MUNGE_DIR"
    if [[ ! -s $MUNGE_DIR/munge.key ]]; then
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$MUNGE_DIR/munge.key" --force
        else
            dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
        fi
        chmod 0400 "$MUNGE_DIR/munge.key"
    fi
    munged --force --key-file="$MUNGE_DIR/munge.key" --socket="$MUNGE_SOCKET" \
        --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" \
        --seed-file="$MUNGE_DIR/munged.seed" ||
        die 2 "munged did not start; see $MUNGE_DIR/munged.log:
$(tail -n 20 "$MUNGE_DIR/munged.log" 2>/dev/null)"
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -S $MUNGE_SOCKET ]] && pid_alive "$MUNGE_DIR/munged.pid" && return 0
        sleep 0.2
    done
    die 2 "munged socket $MUNGE_SOCKET did not appear"
}

link_system_conf() {
    if [[ -L $SYSTEM_CONF ]]; then
        local target other
        target=$(readlink "$SYSTEM_CONF")
        other=$(dirname "$target")
        if [[ $target == "$CONF" || ! -e $target ]]; then
            rm -f "$SYSTEM_CONF" # ours, or left dangling by an earlier run
        elif grep -q '^# Written by tests/slurm/cluster.sh' "$target" 2>/dev/null; then
            pid_alive "$other/slurmctld.pid" &&
                die 3 "another test cluster of this script runs from $other" \
                    "(stop it: PROTRNN_SLURM_DIR=$other $0 stop)"
            rm -f "$SYSTEM_CONF"
        fi
    fi
    if [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]]; then
        die 3 "$SYSTEM_CONF exists and is not from this script (a real SLURM set up here?);" \
            "not replacing it"
    fi
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -s "$CONF" "$SYSTEM_CONF"
}

unlink_system_conf() {
    if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$CONF" ]]; then
        rm -f "$SYSTEM_CONF"
    fi
}

stop_daemon() {
    local file=$1 pid i
    pid_alive "$file" || return 0
    pid=$(<"$file")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
}

cmd_stop() {
    if [[ -f $CONF ]] && pid_alive "$RUN_DIR/slurmctld.pid"; then
        # cancel what is left so no job step outlives the cluster
        local jobs i
        jobs=$(squeue --noheader --format=%i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086  # one job id per word
            scancel $jobs 2>/dev/null || true
            for ((i = 0; i < 30; i++)); do
                [[ -z $(squeue --noheader --states=PENDING,RUNNING,COMPLETING \
                    --format=%i 2>/dev/null) ]] && break
                sleep 0.5
            done
        fi
    fi
    stop_daemon "$RUN_DIR/slurmd.pid"
    stop_daemon "$RUN_DIR/slurmctld.pid"
    stop_daemon "$MUNGE_DIR/munged.pid"
    unlink_system_conf
    if [[ ${PROTRNN_SLURM_KEEP:-0} != 1 ]]; then
        rm -rf "$RUN_DIR"
    fi
    log "stopped"
}

cmd_start() {
    mkdir -p "$RUN_DIR"
    if is_up; then
        log "already running (SLURM_CONF=$CONF)"
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    install_slurm
    [[ $(id -u) -eq 0 ]] || die 3 "starting slurmd needs root (it launches the jobs)"
    # a half-started cluster from before: stop it, keep nothing but the munge key
    PROTRNN_SLURM_KEEP=1 cmd_stop 2>/dev/null
    rm -rf "$RUN_DIR/state" "$RUN_DIR/spool" "$RUN_DIR"/*.log "$RUN_DIR"/*.pid
    mkdir -p "$RUN_DIR/state" "$RUN_DIR/spool"
    chmod 0755 "$RUN_DIR"
    write_conf
    link_system_conf
    start_munge
    slurmctld -f "$CONF" -i ||
        die 2 "slurmctld did not start; see $RUN_DIR/slurmctld.log:
$(tail -n 20 "$RUN_DIR/slurmctld.log" 2>/dev/null)"
    slurmd -f "$CONF" -N "$NODE" ||
        die 2 "slurmd did not start; see $RUN_DIR/slurmd.log:
$(tail -n 20 "$RUN_DIR/slurmd.log" 2>/dev/null)"
    local i state=""
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        state=$(node_state)
        case $state in
        idle*)
            log "node $NODE idle in partition $PARTITION (SLURM_CONF=$CONF)"
            echo "export SLURM_CONF=$CONF"
            return 0
            ;;
        down* | drain* | fail* | inval*)
            # a node that registers after slurmctld decided it was down: resume it once
            scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
            ;;
        esac
        sleep 0.5
    done
    log "node $NODE not idle after ${TIMEOUT}s (state: ${state:-unknown})"
    log "slurmctld.log:"
    tail -n 20 "$RUN_DIR/slurmctld.log" >&2 2>/dev/null || true
    log "slurmd.log:"
    tail -n 20 "$RUN_DIR/slurmd.log" >&2 2>/dev/null || true
    exit 2
}

cmd_status() {
    if is_up; then
        echo "running: node $NODE $(node_state), SLURM_CONF=$CONF"
        return 0
    fi
    echo "not running"
    return 1
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*)
    echo "usage: $0 start|stop|status|env" >&2
    exit 1
    ;;
esac
