#!/bin/sh
# Bring up a single-node, loopback-only Slurm cluster (Debian 12 / Slurm 22.05.8) for the sweep
# tests, as measured in SLURM.md: no systemd, no cgroups, no accounting database. Run as root.
# About 8 s from nothing (3 s with the packages installed); stop it with .ci/slurm-down.sh.
set -eu
export DEBIAN_FRONTEND=noninteractive

if [ -s /tmp/slurm/slurmctld.pid ] && kill -0 "$(cat /tmp/slurm/slurmctld.pid)" 2>/dev/null; then
  echo "slurmctld already running; run slurm-down.sh first" >&2; exit 1
fi

# 1. Packages: 9 packages, ~3.8 MB download, ~13.4 MiB installed (no Recommends: they pull in
#    43 packages of plugins nobody here needs).
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null

# 2. MUNGE. Debian's postinst creates /etc/munge/munge.key; create one only if missing.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
# /run/munge is normally made by systemd (RuntimeDirectory=munge); without systemd make it.
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
# Start munged unless one already answers (e.g. started by systemd at install time).
munge -n >/dev/null 2>&1 || runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null      # fails the script if MUNGE does not work

# 3. Fresh state (job ids and old jobs survive restarts otherwise) and the configuration.
#    CPUs must not exceed what slurmd detects: nproc. batch_sched_delay=0 starts the next wave
#    of short array tasks about 1 s after the last instead of up to 3 s.
rm -rf /tmp/slurm
mkdir -p /etc/slurm /tmp/slurm/state /tmp/slurm/spool
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=/tmp/slurm/state
SlurmdSpoolDir=/tmp/slurm/spool
SlurmctldPidFile=/tmp/slurm/slurmctld.pid
SlurmdPidFile=/tmp/slurm/slurmd.pid
SlurmctldLogFile=/tmp/slurm/slurmctld.log
SlurmdLogFile=/tmp/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# 4. Daemons. Both fork into the background and write the PID files named above.
# With NoCtldInAddrAny/NoInAddrAny they bind to the address that gethostname() resolves to.
# Running them in their own UTS namespace with hostname "localhost" makes that 127.0.0.1
# whatever this machine is called; fall back to the real hostname where unshare is refused.
if unshare --uts true 2>/dev/null; then
  unshare --uts sh -c 'hostname localhost && slurmctld && slurmd -N localhost'
else
  echo "unshare refused; daemons bind to $(getent hosts "$(hostname)" | awk '{print $1; exit}')" >&2
  slurmctld
  slurmd -N localhost
fi

# 5. Wait until the node is idle (about 1 s).
i=0
until [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; do
  i=$((i+1))
  if [ $i -gt 60 ]; then
    sinfo -R; tail -n 20 /tmp/slurm/slurmctld.log /tmp/slurm/slurmd.log; exit 1
  fi
  sleep 0.5
done

# 6. Check that ports 6817 (0x1AA1) and 6818 (0x1AA2) listen on 127.0.0.1 (0100007F) only.
if awk '$4=="0A" && $2 ~ /:1AA[12]$/ && $2 !~ /^0100007F:/ {bad=1} END {exit !bad}' /proc/net/tcp; then
  echo "WARNING: a Slurm daemon listens on a non-loopback address" >&2
fi
sinfo
