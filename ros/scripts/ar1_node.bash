# Sourced by the ar1_planner / ar1_watchdog wrappers: finds the ar1-ros tree and execs `node bin/ar1.js node KIND`.
# exec (not a child process) so the SIGINT/SIGTERM that ros2 launch sends reaches the node itself.
ar1_run_node() {
  local kind="$1"; shift
  local here candidates=() home=""
  # The wrapper's own directory, without resolving symlinks: with colcon --symlink-install the file links into the
  # source tree, but share/ar1_ros must still be found next to the install prefix.
  here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
  [[ -n "${AR1_ROS_HOME:-}" ]] && candidates+=("$AR1_ROS_HOME")
  candidates+=("$here/../../share/ar1_ros" "$here/../..")
  for c in "${candidates[@]}"; do
    if [[ -f "$c/bin/ar1.js" ]]; then home="$(cd "$c" && pwd)"; break; fi
  done
  if [[ -z "$home" ]]; then
    echo "ar1_$kind: cannot find bin/ar1.js; looked in: ${candidates[*]} (set AR1_ROS_HOME to the ar1-ros directory)" >&2
    exit 2
  fi
  local node_bin="${AR1_NODE:-node}"
  if ! command -v "$node_bin" >/dev/null 2>&1; then
    echo "ar1_$kind: '$node_bin' not found on PATH (Node.js >= 20.20.2 is required; set AR1_NODE to its path)" >&2
    exit 2
  fi
  exec "$node_bin" "$home/bin/ar1.js" node "$kind" "$@"
}
