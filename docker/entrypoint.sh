#!/usr/bin/env bash
# Entrypoint of the ar1-ros image: sources ROS 2 and the ar1 overlay, then runs the command.
#   launch FILE [ARG:=VALUE …]   ros2 launch ar1_ros FILE bundle:=$AR1_BUNDLE ARG:=VALUE …   (the default)
#   ar1 …                        the ar1 CLI (replay, report merge, model make-demo, …)
#   alpasim-driver [OPTION …]    ar1 alpasim-driver --bundle $AR1_BUNDLE --listen 0.0.0.0:6789 OPTION … (AlpaSim's
#                                external driver; a later --listen/--bundle in OPTION wins)
#   anything else                run as given (ros2 topic echo …, bash)
# Paths are overridable for tests and custom images: ROS_SETUP, AR1_OVERLAY_SETUP.
set -eo pipefail

ros_setup="${ROS_SETUP:-/opt/ros/${ROS_DISTRO:-jazzy}/setup.bash}"
overlay_setup="${AR1_OVERLAY_SETUP:-/opt/ar1/install/setup.bash}"
for f in "$ros_setup" "$overlay_setup"; do
  if [[ ! -f "$f" ]]; then echo "entrypoint: $f: no such file (is this the ar1-ros image?)" >&2; exit 2; fi
done
# setup.bash reads unset variables: no `set -u` while sourcing.
# shellcheck disable=SC1090
source "$ros_setup"
# shellcheck disable=SC1090
source "$overlay_setup"

if [[ $# -eq 0 ]]; then set -- launch ar1.launch.yaml; fi

if [[ "$1" == launch ]]; then
  shift
  file="${1:-ar1.launch.yaml}"
  [[ $# -gt 0 ]] && shift
  bundle="${AR1_BUNDLE:-/models/ar1}"
  has_bundle=0
  for a in "$@"; do [[ "$a" == bundle:=* ]] && has_bundle=1 && bundle="${a#bundle:=}"; done
  if [[ ! -d "$bundle" || -z "$(ls -A "$bundle" 2>/dev/null)" ]]; then
    echo "entrypoint: model bundle $bundle is missing or empty: mount it (docker run -v /path/to/bundle:$bundle:ro …)" >&2
    exit 2
  fi
  [[ $has_bundle == 0 ]] && set -- "bundle:=$bundle" "$@"
  set -- ros2 launch ar1_ros "$file" "$@"
fi

if [[ "$1" == alpasim-driver ]]; then
  shift
  bundle="${AR1_BUNDLE:-/models/ar1}"
  if [[ ! -d "$bundle" || -z "$(ls -A "$bundle" 2>/dev/null)" ]]; then
    echo "entrypoint: model bundle $bundle is missing or empty: mount it (docker run -v /path/to/bundle:$bundle:ro …)" >&2
    exit 2
  fi
  set -- ar1 alpasim-driver --bundle "$bundle" --listen "${AR1_ALPASIM_LISTEN:-0.0.0.0:6789}" "$@"
fi

exec "$@"
