#!/usr/bin/env bash
# bounded.sh SECONDS command...: runs the command; if it is still running after SECONDS, prints
# every thread's stack of each process under it (gdb) and kills them, exiting 124.
# Why: Swift Testing has no per-test timeout that can end a thread blocked in a system call,
# so one hung test held a CI run until its 90-minute limit with nothing to show. Bounded, a hang
# fails in minutes and its stacks name the blocked call.
set -uo pipefail
seconds=$1; shift

descendants() { # pid: its children, grandchildren, ...
  local child
  for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}

"$@" &
pid=$!
(
  # Polls rather than sleeping once: it ends within a second of the command, so no sleeping
  # process is left holding the caller's output open.
  for ((waited = 0; waited < seconds; waited++)); do
    kill -0 "$pid" 2>/dev/null || exit 0
    sleep 1
  done
  echo "bounded.sh: '$*' is still running after ${seconds}s; stacks, then kill:" >&2
  tree=$(descendants "$pid")
  for p in $pid $tree; do
    echo "--- pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)" >&2
    if command -v gdb >/dev/null; then
      timeout 120 gdb -p "$p" -batch -nx -ex "set pagination off" -ex "thread apply all bt 25" 2>/dev/null \
        | grep -E '^(Thread|#)' >&2
    fi
  done
  kill -KILL $tree "$pid" 2>/dev/null
) &
watchdog=$!
wait "$pid"
status=$?
wait "$watchdog" 2>/dev/null
# A watchdog kill shows as 137 (SIGKILL); say 124, as timeout(1) does.
[ "$status" -eq 137 ] && status=124
exit "$status"
