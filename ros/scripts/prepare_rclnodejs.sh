#!/usr/bin/env bash
# Makes rclnodejs usable in DIR (an ar1-ros tree with node_modules): its native addon for the sourced ROS 2, and its
# JS message classes for every interface on AMENT_PREFIX_PATH (ar1_msgs included). Offline: nothing is downloaded.
#   - A prebuilt addon shipped in the rclnodejs package (jazzy on Ubuntu 24.04 "noble", x64 and arm64) is used as is.
#   - Anywhere else the addon is compiled with node-gyp against the headers of the installed Node (--nodedir), not
#     headers downloaded by node-gyp; rclnodejs's own rebuild script is not used (it runs `npx rimraf`, which needs
#     the network, and deletes a working addon before it fails).
#   - ROS 2 Jazzy must provide rcl_timer_get_next_call_time (rclnodejs 2.2 calls it): checked before building.
# Usage: ros/scripts/prepare_rclnodejs.sh DIR      (ROS 2 and the ar1_msgs overlay sourced)
set -euo pipefail
dir="${1:?usage: prepare_rclnodejs.sh DIR (an ar1-ros tree with node_modules)}"
say() { echo "prepare_rclnodejs: $*"; }
die() { echo "prepare_rclnodejs: $*" >&2; exit 2; }

rcl="$dir/node_modules/rclnodejs"
[[ -d "$rcl" ]] || die "$rcl: no such directory (run npm ci in $dir first)"
[[ -n "${ROS_DISTRO:-}" && -n "${AMENT_PREFIX_PATH:-}" ]] || die "ROS 2 is not sourced (ROS_DISTRO/AMENT_PREFIX_PATH empty): source /opt/ros/jazzy/setup.bash and the ar1_msgs overlay first"

# rcl must have the function rclnodejs 2.2 calls on every distro after Humble (absent from Jazzy's first rcl, 9.2.0).
librcl=""
IFS=: read -ra prefixes <<<"$AMENT_PREFIX_PATH"
for p in "${prefixes[@]}"; do [[ -f "$p/lib/librcl.so" ]] && { librcl="$p/lib/librcl.so"; break; }; done
[[ -n "$librcl" ]] || die "librcl.so not found under AMENT_PREFIX_PATH=$AMENT_PREFIX_PATH"
# (nm's output is read whole: `grep -q` closing the pipe early would fail the pipeline under pipefail.)
if command -v nm >/dev/null && [[ "$(nm -D --defined-only "$librcl")" != *" T rcl_timer_get_next_call_time"* ]]; then
  die "$librcl lacks rcl_timer_get_next_call_time, which rclnodejs 2.2 needs: update ROS 2 Jazzy (apt upgrade; the first Jazzy rcl, 9.2.0, lacks it)"
fi

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
arch=$(node -p process.arch)
prebuilt="$rcl/prebuilds/linux-$arch/$ROS_DISTRO-$codename-$arch-node-rclnodejs.node"
if [[ -n "$codename" && -f "$prebuilt" ]]; then
  say "using the prebuilt addon $(basename "$prebuilt")"
elif [[ -f "$rcl/build/Release/rclnodejs.node" && -f "$rcl/build/.ar1-built-for" && "$(cat "$rcl/build/.ar1-built-for")" == "$AMENT_PREFIX_PATH $(node --version)" ]]; then
  say "the addon in $rcl/build is already built for this ROS 2 and Node"
else
  nodedir="${NODEDIR:-$(dirname "$(dirname "$(command -v node)")")}"
  [[ -f "$nodedir/include/node/node.h" ]] || die "no Node.js headers in $nodedir/include/node (install the headers of your Node, e.g. the official tarball, or set NODEDIR to a directory holding include/node)"
  gyp="$dir/node_modules/.bin/node-gyp"
  [[ -x "$gyp" ]] || die "$gyp: not found (rclnodejs depends on node-gyp: run npm ci in $dir)"
  say "no prebuilt addon for $ROS_DISTRO on ${codename:-this OS} ($arch): compiling it (node-gyp, headers from $nodedir; a few minutes)"
  rm -rf "$rcl/build"
  ( cd "$rcl" && "$gyp" rebuild -j "${JOBS:-$(nproc)}" --nodedir="$nodedir" ) >"${TMPDIR:-/tmp}/ar1-rclnodejs-build.log" 2>&1 \
    || { tail -n 20 "${TMPDIR:-/tmp}/ar1-rclnodejs-build.log" >&2; die "the rclnodejs addon failed to compile (log: ${TMPDIR:-/tmp}/ar1-rclnodejs-build.log)"; }
  echo "$AMENT_PREFIX_PATH $(node --version)" >"$rcl/build/.ar1-built-for"
fi

say "generating the JS message classes"
rm -rf "$rcl/generated"
( cd "$dir" && node "$rcl/scripts/generate_messages.cjs" ) >"${TMPDIR:-/tmp}/ar1-rclnodejs-generate.log" 2>&1 \
  || { tail -n 20 "${TMPDIR:-/tmp}/ar1-rclnodejs-generate.log" >&2; die "message generation failed"; }
# generate_messages.cjs logs errors and exits 0: check that our own interfaces made it.
[[ -d "$rcl/generated/ar1_msgs" ]] || die "no JS classes generated for ar1_msgs (is the ar1_msgs overlay sourced? AMENT_PREFIX_PATH=$AMENT_PREFIX_PATH)"
say "done"
