#!/usr/bin/env bash
# Installs what the pipeline and its tests need on a fresh Debian 12 machine, then builds the solution.
# Idempotent: Debian packages are installed only when missing and the .NET build is incremental. Nothing is
# compiled from native sources: Kafka's client library is the official librdkafka.redist package from NuGet.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# jemalloc, the allocator the edge runs on (shared/Pipeline.Core/Hosting/JemallocPreload.cs). Servers and peers used at
# run time and by tests: PostgreSQL, rsyslog (forwarding tests, TLS through gnutls, and the
# benchmark's peer), logger (bsdutils), curl, kcat, docker-compose and python3-yaml (validate and read docker-compose.yml); prometheus (promtool: the
# scrape benchmark's peer; a real server scrapes a running pipeline in the tests; its promtool checks and unit-tests
# infra/observability) and prometheus-node-exporter (a real exporter the scrape tests pull from);
# Chromium (the status page's browser tests drive Debian's build through Playwright; no browser is downloaded) with a
# font, and tmux (ops top is tested in it).
infra/apt-install.sh libjemalloc2 postgresql postgresql-client rsyslog rsyslog-kafka rsyslog-gnutls bsdutils curl kcat docker-compose python3-yaml ca-certificates openssl \
  chromium fonts-dejavu-core tmux prometheus prometheus-node-exporter
# syslog-ng beside rsyslog (the forwarding tests run both): unpacked into a private folder, see the script.
infra/syslog-ng/private.sh >/dev/null

if [[ ! -x $(command -v dotnet) ]]; then
  echo "dotnet (the .NET 10 SDK) is not on PATH" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build Pipeline.sln -c Release -nologo -clp:ErrorsOnly -v:quiet
