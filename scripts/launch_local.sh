#!/usr/bin/env bash
# Start N local processes that form one multi-process search (jax.distributed,
# gloo collectives on the CPU). The arguments after N go to every process.
#
#   ./scripts/launch_local.sh 2 --config=configs/mnist1d.py --workdir=runs/mnist1d
#
# Each process gets PATHWAYS_JAX_DEVICES_PER_PROCESS fake CPU devices (default
# 1), so the search runs on N * that many devices. Process 0 prints as the
# single-process command does and writes the workdir; the others' lines are
# prefixed with "[process K]". When one process fails the others are stopped by
# JAX within --heartbeat_timeout_seconds (this script stops any left over);
# running the same command again resumes from the last checkpoint. SIGTERM and
# Ctrl-C are passed to every process, which save a checkpoint and stop.
#
# Environment: PYTHON (default .venv/bin/python, else python3),
# PATHWAYS_JAX_PORT (default: a free port), PATHWAYS_JAX_DEVICES_PER_PROCESS.
set -uo pipefail

usage="usage: $0 NUM_PROCESSES [search.py flags...]"
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "launch_local.sh: error: NUM_PROCESSES must be a positive integer, got '${1:-}'; $usage" >&2
  exit 2
fi
NUM_PROCESSES="$1"
shift
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$REPO_ROOT/.venv/bin/python" ]; then PYTHON="$REPO_ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
PORT="${PATHWAYS_JAX_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("localhost", 0)); print(s.getsockname()[1])')}"
DEVICES="${PATHWAYS_JAX_DEVICES_PER_PROCESS:-1}"
HEARTBEAT=100
for argument in "$@"; do
  case "$argument" in
    --heartbeat_timeout_seconds=*) HEARTBEAT="${argument#*=}" ;;
  esac
done

pids=()
for ((index = 0; index < NUM_PROCESSES; index++)); do
  command=("$PYTHON" "$REPO_ROOT/experiments/search.py" "$@"
    "--coordinator_address=localhost:$PORT" "--num_processes=$NUM_PROCESSES" "--process_id=$index")
  if [ "$index" -eq 0 ]; then
    JAX_NUM_CPU_DEVICES="$DEVICES" "${command[@]}" &
  else
    # exec: the prefixing subshell becomes the process itself, so its pid is
    # the search's and its exit status is the search's.
    JAX_NUM_CPU_DEVICES="$DEVICES" "${command[@]}" > >(sed -u "s/^/[process $index] /") 2>&1 &
  fi
  pids+=("$!")
done

forward() {
  for pid in "${pids[@]}"; do kill -s "$1" "$pid" 2>/dev/null; done
}
trap 'forward TERM' TERM
trap 'forward INT' INT

describe() {  # describe STATUS: how a process ended
  local status="$1"
  if [ "$status" -eq 0 ]; then echo "finished"
  elif [ "$status" -eq 134 ]; then echo "was stopped by JAX (status 134) because another process failed"
  elif [ "$status" -eq 143 ] || [ "$status" -eq 130 ]; then
    echo "stopped on SIG$(kill -l $((status - 128))) (status $status)"
  elif [ "$status" -gt 128 ]; then echo "was killed by signal $((status - 128)) (status $status)"
  else echo "failed with status $status"
  fi
}

# Wait for every process; once one fails, the others get the heartbeat timeout
# and a margin to stop by themselves before they are killed.
statuses=()
first_failure=""
deadline=""
remaining=$NUM_PROCESSES
declare -A done_pids=()
while [ "$remaining" -gt 0 ]; do
  for index in "${!pids[@]}"; do
    pid="${pids[$index]}"
    [ -n "${done_pids[$pid]:-}" ] && continue
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      status=$?
      statuses[$index]=$status
      done_pids[$pid]=1
      remaining=$((remaining - 1))
      if [ "$status" -ne 0 ] && [ -z "$first_failure" ]; then
        first_failure=$index
        deadline=$((SECONDS + HEARTBEAT + 30))
      fi
    fi
  done
  if [ -n "$deadline" ] && [ "$SECONDS" -ge "$deadline" ]; then
    forward KILL
  fi
  [ "$remaining" -gt 0 ] && sleep 0.2
done

if [ -z "$first_failure" ]; then
  exit 0
fi
summary=""
for index in "${!pids[@]}"; do
  summary+="process $index $(describe "${statuses[$index]}"); "
done
status="${statuses[$first_failure]}"
hint="see the error above"
if [ "$status" -gt 128 ]; then hint="run the same command again to resume from the last checkpoint"; fi
echo "launch_local.sh: error: the job of $NUM_PROCESSES processes failed: ${summary}${hint}" >&2
exit "$status"
