#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for `npm run test:slurm` (issue 16).
#   scripts/slurm-local.sh start   writes a slurm.conf under $GMOE_SLURM_DIR, starts munged (unless one
#                                  already answers), slurmctld and slurmd; prints `export SLURM_CONF=...`
#   scripts/slurm-local.sh stop    stops only the daemons that `start` started, by the pids it recorded
#   scripts/slurm-local.sh env     prints the `export` lines again
# It installs nothing: Debian's slurm-wlm and munge must be there (CI: .ci/run's apt-get line).
# No cgroups (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no cgroup.conf), so it runs in a
# container; its config, state, logs and munge key live in $GMOE_SLURM_DIR (default /tmp/gmoe-slurm-$UID),
# and it listens on its own ports (GMOE_SLURM_PORT, GMOE_SLURM_PORT+1), so it touches no system Slurm.
set -euo pipefail

dir=${GMOE_SLURM_DIR:-${TMPDIR:-/tmp}/gmoe-slurm-$(id -u)}
port=${GMOE_SLURM_PORT:-16817}
conf=$dir/slurm.conf
pids=$dir/started.pids   # "name pid" lines of the daemons this script started

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

print_env() {
  echo "export SLURM_CONF=$conf"
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# the pid a daemon wrote to its pid file, once it is alive (daemons fork: the pid we spawn is not theirs)
wait_pidfile() {
  local file=$1 name=$2 t pid
  for t in $(seq 1 100); do
    if [[ -s $file ]]; then
      pid=$(cat "$file")
      if alive "$pid"; then echo "$pid"; return 0; fi
    fi
    sleep 0.1
  done
  die "$name did not start (no live pid in $file); its log: $(tail -n 5 "$dir/$name.log" 2>/dev/null | tr '\n' ' ')"
}

munge_ok() { munge -n -S "$1" 2>/dev/null | unmunge -S "$1" >/dev/null 2>&1; }

start() {
  for bin in munged munge unmunge slurmctld slurmd sinfo sbatch; do
    command -v "$bin" >/dev/null || [[ -x /usr/sbin/$bin ]] || die "$bin not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)"
  done
  export PATH=$PATH:/usr/sbin
  if [[ -s $pids ]]; then
    while read -r name pid; do
      alive "$pid" && die "already started ($name pid $pid); run '$0 stop' first"
    done <"$pids"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"/{state,spool,munge}
  chmod 700 "$dir" "$dir/munge"
  : >"$pids"

  # munge: reuse a munged that already answers on the default socket, else start our own
  local sock=/run/munge/munge.socket.2
  if munge_ok "$sock"; then
    say "using the running munged ($sock)"
  else
    sock=$dir/munge/munge.socket
    mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$dir/munge/munge.key"
    munged --force --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
      --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" 2>>"$dir/munged.log"
    echo "munged $(wait_pidfile "$dir/munge/munged.pid" munged)" >>"$pids"
    munge_ok "$sock" || die "munged does not answer on $sock; its log: $(tail -n 5 "$dir/munged.log" | tr '\n' ' ')"
  fi

  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 / 2)) # MB offered to jobs: half the machine
  cat >"$conf" <<EOF
# written by scripts/slurm-local.sh: a one-node test cluster without cgroups
ClusterName=gmoe-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=15
MinJobAge=3600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  export SLURM_CONF=$conf
  slurmctld -f "$conf" -i 2>>"$dir/slurmctld.log"
  echo "slurmctld $(wait_pidfile "$dir/slurmctld.pid" slurmctld)" >>"$pids"
  slurmd -f "$conf" 2>>"$dir/slurmd.log"
  echo "slurmd $(wait_pidfile "$dir/slurmd.pid" slurmd)" >>"$pids"

  # ready when the node is idle
  local t state=
  for t in $(seq 1 60); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
    [[ $state == idle* ]] && break
    sleep 0.5
  done
  [[ $state == idle* ]] || die "the node did not come up (state: ${state:-none}); logs in $dir"
  say "cluster up: node $host, $cpus CPUs, ${mem} MB; config $conf"
  print_env
}

stop() {
  [[ -s $pids ]] || { say "nothing to stop ($pids is empty or missing)"; return 0; }
  local name pid t
  # jobs still queued or running on this cluster go first (their processes belong to slurmd)
  if [[ -f $conf ]]; then
    SLURM_CONF=$conf scancel --full --signal=KILL --user="$(id -un)" 2>/dev/null || true
    SLURM_CONF=$conf scancel --user="$(id -un)" 2>/dev/null || true
    for t in $(seq 1 30); do
      [[ -z $(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
  # slurmd before slurmctld before munged: the reverse of the start order
  for name in slurmd slurmctld munged; do
    pid=$(awk -v n="$name" '$1 == n { print $2 }' "$pids")
    [[ -n $pid ]] || continue
    alive "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    for t in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  done
  : >"$pids"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
