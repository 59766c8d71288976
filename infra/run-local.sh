#!/usr/bin/env bash
# Starts the whole pipeline on this machine until Ctrl-C: an embedded Kafka cluster, a private
# PostgreSQL, the edge and every consumer worker. Installs and builds what it needs first.
#   infra/run-local.sh [--syslog-port 5514] [--http-port 8080] [--otlp-port 4318] [--bind 127.0.0.1] [--brokers 3] [--workers noc,siem,topk,files]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
infra/setup.sh
postgres=$(infra/postgres/cluster.sh start --database pipeline)
exec dotnet "infra/Pipeline.Ops/bin/Release/net10.0/linux-x64/publish/Pipeline.Ops.dll" local --postgres "$postgres" "$@"
