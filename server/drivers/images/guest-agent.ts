/**
 * The guest side of the agent (the host side: qemu/agent.ts), installed in every image (busybox runs it from its init, Debian as a unit):
 * one request per line on ttyS1, "ID BASE64(script)"; answers "ID RC BASE64(stdout) BASE64(stderr)".
 */
export const AGENT_SCRIPT = `#!/bin/sh
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
# Listening: the busybox init waits for this before it says the machine is ready.
: > /tmp/.hangar-agent-ready
while read -r id req <&3; do
  echo "$req" | base64 -d > /tmp/.agent.sh
  sh /tmp/.agent.sh </dev/null >/tmp/.agent.out 2>/tmp/.agent.err
  rc=$?
  echo "$id $rc $(base64 -w 0 /tmp/.agent.out) $(base64 -w 0 /tmp/.agent.err)" >&3
done
`;
