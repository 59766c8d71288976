#!/usr/bin/env bash
# Starts one consumer worker in the foreground: noc, siem, topk or files, with any of its options.
#   infra/worker.sh files --group new_team --output .pipeline/teams
# Kafka comes from KAFKA_BOOTSTRAP_SERVERS and PostgreSQL (noc, topk) from PIPELINE_POSTGRES unless the
# options name them (--kafka, --postgres): `source .pipeline/local.env` sets both for a local run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
name=${1:-}
case "$name" in
  noc)   project=Pipeline.Consumers.Postgres ;;
  siem)  project=Pipeline.Consumers.Siem ;;
  topk)  project=Pipeline.Consumers.TopK ;;
  files) project=Pipeline.Consumers.Files ;;
  *) echo "usage: infra/worker.sh noc|siem|topk|files [options]" >&2; exit 2 ;;
esac
shift
# The build publishes it ReadyToRun into publish/ (Directory.Build.targets).
dll="$repo/consumers/$project/bin/Release/net10.0/linux-x64/publish/$project.dll"
[[ -f $dll ]] || { echo "$project is not built: run infra/setup.sh" >&2; exit 2; }
args=()
if [[ -n ${KAFKA_BOOTSTRAP_SERVERS:-} && -z ${Kafka__BootstrapServers:-} ]]; then args+=(--kafka "$KAFKA_BOOTSTRAP_SERVERS"); fi
if [[ $name == noc || $name == topk ]] && [[ -n ${PIPELINE_POSTGRES:-} ]]; then args+=(--postgres "$PIPELINE_POSTGRES"); fi
# Options given here come last, so they win over the environment's.
exec dotnet "$dll" "${args[@]}" "$@"
