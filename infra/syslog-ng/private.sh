#!/usr/bin/env bash
# Unpacks syslog-ng from Debian into a private folder without installing it: the syslog-ng-core package
# conflicts with rsyslog (both are the system logger), so the two cannot be installed side by side. Prints
# the folder; run the daemon from it with:
#   LD_LIBRARY_PATH=$dir/usr/lib/syslog-ng $dir/usr/sbin/syslog-ng --module-path=$dir/usr/lib/syslog-ng/3.38 -F -f CONFIG ...
# Idempotent and cached in $PIPELINE_CACHE (default ~/.cache/pipeline).
#   private.sh              unpacks it if needed (installing its libraries), then prints the folder
#   private.sh --installed  prints the folder if it is unpacked, else fails; installs nothing (what tests use)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${PIPELINE_CACHE:-$HOME/.cache/pipeline}
dir="$cache_root/syslog-ng"
if [[ -x $dir/usr/sbin/syslog-ng ]]; then
  echo "$dir"
  exit 0
fi
if [[ ${1:-} == --installed ]]; then
  echo "syslog-ng is not unpacked in $dir: run infra/setup.sh (it runs infra/syslog-ng/private.sh)" >&2
  exit 1
fi
# Its libraries do not conflict with anything: install them normally.
"$here/../apt-install.sh" libivykis0 libnet1 libglib2.0-0 libjson-c5 libpcre3 libwrap0 libcap2 libssl3 libsystemd0 >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download runs as the _apt user where it can
(cd "$work" && apt-get download -q syslog-ng-core >/dev/null 2>&1) || {
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  (cd "$work" && apt-get download -q syslog-ng-core >/dev/null 2>&1)
}
mkdir -p "$work/root"
dpkg -x "$work"/syslog-ng-core_*.deb "$work/root"
mkdir -p "$cache_root"
rm -rf "$dir.tmp"
mv "$work/root" "$dir.tmp"
mv "$dir.tmp" "$dir"
echo "$dir"
