#!/bin/sh
# Stop the daemons started by slurm-up.sh, by PID file (slurmd first, then slurmctld, then
# munged), waiting up to 10 s for each. Packages, /etc/slurm/slurm.conf and the logs in
# /tmp/slurm stay; slurm-up.sh wipes /tmp/slurm before the next start.
for f in /tmp/slurm/slurmd.pid /tmp/slurm/slurmctld.pid /run/munge/munged.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || continue
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
done
