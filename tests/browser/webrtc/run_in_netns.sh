#!/bin/sh
# Runs a command inside a new network namespace that has only loopback (as root, or unprivileged through a
# user namespace: -r maps the caller to root inside it), so the WebRTC tests cannot use any other interface.
#   run_in_netns.sh node host_test.mjs
exec unshare -rn sh -c 'ip link set lo up && exec "$@"' run_in_netns "$@"
