#!/usr/bin/env bash
# The operator's commands: topics apply, lag, reset, replay, tail (and local, which run-local.sh starts).
#   infra/ops.sh lag --group new_team --threshold 0
# Kafka comes from --kafka or KAFKA_BOOTSTRAP_SERVERS, PostgreSQL from --postgres or PIPELINE_POSTGRES:
# `source .pipeline/local.env` sets both for a local run. `infra/ops.sh <command> --help` lists the options.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# The build publishes it ReadyToRun into publish/ (Directory.Build.targets).
dll="$repo/infra/Pipeline.Ops/bin/Release/net10.0/linux-x64/publish/Pipeline.Ops.dll"
[[ -f $dll ]] || { echo "Pipeline.Ops is not built: run infra/setup.sh" >&2; exit 2; }
exec dotnet "$dll" "$@"
