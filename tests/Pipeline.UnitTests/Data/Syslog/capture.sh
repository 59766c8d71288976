#!/usr/bin/env bash
# Captures verbatim forwarded lines from real rsyslog and syslog-ng into this folder (see README.txt).
# Everything listens and sends on 127.0.0.1 only; every daemon started here is stopped by its own pid.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
work=$(mktemp -d /tmp/syslog-capture.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$repo/infra/apt-install.sh" rsyslog >/dev/null
command -v python3 >/dev/null || "$repo/infra/apt-install.sh" python3

# syslog-ng-core conflicts with rsyslog as a Debian package: unpack it (and the two libraries it needs that
# are not installed) into a private folder instead of installing it.
sng=$work/syslog-ng
mkdir -p "$sng/debs"
(cd "$sng/debs" && apt-get download -q syslog-ng-core libivykis0 libnet1 >/dev/null 2>&1)
for d in "$sng"/debs/*.deb; do dpkg -x "$d" "$sng/root"; done

# A listener per capture: TCP keeps the byte stream exactly; UDP writes each datagram followed by LF
# (the datagrams hold no LF themselves, which the listener checks).
cat >"$work/listen.py" <<'PY'
import socket, sys, threading
def tcp(port, path):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(8)
    out = open(path, "ab", buffering=0)
    while True:
        c, _ = s.accept()
        threading.Thread(target=lambda c=c: [out.write(b) for b in iter(lambda: c.recv(65536), b"")], daemon=True).start()
def udp(port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", port))
    out = open(path, "ab", buffering=0)
    while True:
        d = s.recv(65536)
        assert b"\n" not in d.rstrip(b"\n"), d
        out.write(d if d.endswith(b"\n") else d + b"\n")
for spec in sys.argv[1:]:
    kind, port, path = spec.split(":", 2)
    threading.Thread(target=tcp if kind == "tcp" else udp, args=(int(port), path), daemon=True).start()
threading.Event().wait()
PY

raw=$work/out
mkdir -p "$raw"
python3 "$work/listen.py" \
  tcp:25601:"$raw/rsyslog-rfc5424.txt" \
  tcp:25602:"$raw/rsyslog-rfc5424-octet-counted.bin" \
  tcp:25603:"$raw/rsyslog-forward.txt" \
  tcp:25604:"$raw/rsyslog-traditional.txt" \
  udp:25605:"$raw/rsyslog-traditional-udp.txt" \
  tcp:25611:"$raw/syslog-ng-rfc3164.txt" \
  udp:25612:"$raw/syslog-ng-rfc3164-udp.txt" \
  tcp:25613:"$raw/syslog-ng-rfc5424-octet-counted.bin" \
  udp:25614:"$raw/syslog-ng-rfc5424-udp.txt" &
pids+=($!)
sleep 0.5

cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="25600")
input(type="imudp" address="127.0.0.1" port="25600")
action(type="omfwd" target="127.0.0.1" port="25601" protocol="tcp" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="25602" protocol="tcp" tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="25603" protocol="tcp" template="RSYSLOG_ForwardFormat")
action(type="omfwd" target="127.0.0.1" port="25604" protocol="tcp" template="RSYSLOG_TraditionalForwardFormat")
action(type="omfwd" target="127.0.0.1" port="25605" protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
CONF
/usr/sbin/rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" &
pids+=($!)

mkdir -p "$sng/var"
cat >"$work/syslog-ng.conf" <<CONF
@version: 3.38
options { keep-hostname(yes); chain-hostnames(no); use-dns(no); stats-freq(0); };
source s_in {
  network(ip("127.0.0.1") port(25610) transport("tcp"));
  network(ip("127.0.0.1") port(25610) transport("udp"));
  syslog(ip("127.0.0.1") port(25615) transport("tcp"));
  syslog(ip("127.0.0.1") port(25615) transport("udp"));
  internal();
};
destination d_bsd_tcp { network("127.0.0.1" port(25611) transport("tcp")); };
destination d_bsd_udp { network("127.0.0.1" port(25612) transport("udp")); };
destination d_ietf_tcp { syslog("127.0.0.1" port(25613) transport("tcp")); };
destination d_ietf_udp { syslog("127.0.0.1" port(25614) transport("udp")); };
log { source(s_in); destination(d_bsd_tcp); destination(d_bsd_udp); destination(d_ietf_tcp); destination(d_ietf_udp); };
CONF
export SYSLOGNG_PREFIX=$sng/root/usr
LD_LIBRARY_PATH=$sng/root/usr/lib/x86_64-linux-gnu:$sng/root/usr/lib/syslog-ng \
  "$sng/root/usr/sbin/syslog-ng" -F -f "$work/syslog-ng.conf" \
  --module-path="$sng/root/usr/lib/syslog-ng/3.38" -R "$sng/var/persist" -p "$sng/var/pid" -c "$sng/var/ctl" &
pids+=($!)
sleep 2

# The same messages go to both daemons, by TCP and UDP, in both input formats. rsyslog reads both formats on
# one port; syslog-ng's network() reads RFC 3164 only (an RFC 5424 line becomes the MSG of a BSD line, kept
# as captured: a real case) and its syslog() source reads RFC 5424.
send5424() {
  # Extra arguments go to the TCP senders: syslog-ng's syslog() source wants octet counting on TCP.
  local port5424=$1; shift
  logger -n 127.0.0.1 -P "$port5424" -T "$@" --rfc5424 -t myapp --id=1234 --msgid ID47 \
    --sd-id exampleSDID@32473 --sd-param 'iut="3"' --sd-param 'eventSource="Application"' -p local4.notice \
    'An application event with structured data'
  logger -n 127.0.0.1 -P "$port5424" -T "$@" --rfc5424 -t backup --msgid - -p daemon.err \
    --sd-id meta@32473 --sd-param 'path="C:\\\\temp\\\\x"' --sd-param 'quote="say \"hi\" [ok\]"' \
    'value with escapes in structured data'
  logger -n 127.0.0.1 -P "$port5424" -d --rfc5424 -t udpapp --id=77 -p user.warning 'sent by UDP as RFC 5424'
}
send3164() {
  local port=$1
  logger -n 127.0.0.1 -P "$port" -T --rfc3164 -t sshd --id=4321 -p auth.info \
    'Accepted publickey for alice from 10.0.0.5 port 50022 ssh2'
  logger -n 127.0.0.1 -P "$port" -d --rfc3164 -t cron -p cron.notice '(root) CMD (run-parts /etc/cron.hourly)'
  logger -n 127.0.0.1 -P "$port" -T --rfc3164 -t kernel -p kern.crit 'Grüße: ünïcödé ✓ message'
  # Vendor lines as a router or firewall sends them: raw UDP datagrams.
  printf '<189>52: *Mar  1 00:12:34.567: %%SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)' \
    >/dev/udp/127.0.0.1/"$port"
  printf '<187>123: router1: Mar  1 00:12:34 UTC: %%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down' \
    >/dev/udp/127.0.0.1/"$port"
  printf '<164>%%ASA-4-106023: Deny tcp src outside:10.1.1.1/1234 dst inside:10.2.2.2/80 by access-group "OUTSIDE"' \
    >/dev/udp/127.0.0.1/"$port"
}
send5424 25600
send3164 25600
send5424 25610
send5424 25615 --octet-count
send3164 25610
sleep 3

for f in "$raw"/*; do cp "$f" "$here/$(basename "$f")"; done
echo "captured into $here:" >&2
ls -l "$raw" >&2
