/**
 * The guest side of the agent (the host side: qemu/agent.ts), installed in every image (busybox runs it from its init, Debian as a unit):
 * one request per line on ttyS1, "ID BASE64(script)"; answers "ID RC BASE64(stdout) BASE64(stderr)". "kill ID" ends request ID's
 * command (the host stopped waiting for it: its time limit, or its caller gone) and no answer comes for it.
 *
 * Each command runs in a session of its own (setsid) while the loop reads on, so a kill reaches all of it, the command's
 * children too. The host sends one request at a time and the next only after an answer or a kill, so answers never
 * interleave. The waiter is forked twice, so the loop's shell keeps no job per request (it is reaped by init); its stderr is
 * dropped, or the shell's "Killed" for a stopped command would land on the serial console (busybox) or in the journal.
 * Arguments, for a test on a host: the terminal (ttyS1) and the directory of the ready marker and the requests' files (/tmp).
 */
export const AGENT_SCRIPT = `#!/bin/sh
tty=\${1:-/dev/ttyS1}
dir=\${2:-/tmp}
stty -F "$tty" raw -echo 2>/dev/null
exec 3<>"$tty"
# What an earlier run of the agent left (a restart of its unit while a command ran).
rm -f "$dir"/.agent.*
# Listening: the busybox init waits for this before it says the machine is ready.
: > "$dir/.hangar-agent-ready"
# A command's process group, or the command alone before setsid made it a group.
stop() { kill -9 -"$1" 2>/dev/null || kill -9 "$1" 2>/dev/null; }
while read -r id req <&3; do
  if [ "$id" = kill ]; then
    case $req in ''|*[!0-9a-f]*) continue ;; esac
    f=$dir/.agent.$req
    # Gone already: nothing to stop (and no marker left behind).
    [ -e "$f.sh" ] || continue
    : > "$f.killed"
    # Its waiter cleaned up meanwhile: no marker left behind.
    [ -e "$f.sh" ] || { rm -f "$f.killed"; continue; }
    p=$(cat "$f.pid" 2>/dev/null)
    [ -n "$p" ] && stop "$p"
    continue
  fi
  case $id in ''|*[!0-9a-f]*) continue ;; esac
  f=$dir/.agent.$id
  echo "$req" | base64 -d > "$f.sh"
  ( (
    setsid sh "$f.sh" </dev/null >"$f.out" 2>"$f.err" 3>&- &
    p=$!
    echo "$p" > "$f.pid"
    # A kill read before the pid was written.
    [ -e "$f.killed" ] && stop "$p"
    wait "$p"
    rc=$?
    # Reaped: from here its pid may be another process's, so a kill must not find it.
    rm -f "$f.pid"
    [ -e "$f.killed" ] || echo "$id $rc $(base64 -w 0 "$f.out") $(base64 -w 0 "$f.err")" >&3
    rm -f "$f.sh" "$f.out" "$f.err" "$f.killed"
  ) 2>/dev/null & )
done
`;
