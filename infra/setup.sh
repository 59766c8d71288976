#!/usr/bin/env bash
# Installs what the pipeline and its tests need on a fresh Debian 12 machine, then builds the solution.
# Idempotent and cached: Debian packages are installed only when missing, librdkafka is built once
# (infra/librdkafka/build.sh), and the .NET build is incremental.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Servers and peers used at run time and by tests: PostgreSQL, rsyslog (forwarding tests, TLS through gnutls, and the
# benchmark's peer), logger (bsdutils), curl, kcat, docker-compose (validates docker-compose.yml), prometheus (a real
# server scrapes a running pipeline in the tests; its promtool checks and unit-tests infra/observability).
infra/apt-install.sh postgresql postgresql-client rsyslog rsyslog-kafka rsyslog-gnutls bsdutils curl kcat docker-compose ca-certificates openssl prometheus
infra/librdkafka/build.sh

if [[ ! -x $(command -v dotnet) ]]; then
  echo "dotnet (the .NET 10 SDK) is not on PATH" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build Pipeline.sln -c Release -nologo -clp:ErrorsOnly -v:quiet
