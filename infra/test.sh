#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then integration tests against embedded Kafka, a private
# PostgreSQL and real peers (logger, rsyslog, curl). Installs and builds what it needs first.
#   infra/test.sh [extra dotnet test arguments, e.g. --filter Edge]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
infra/setup.sh
infra/postgres/cluster.sh start --database postgres >/dev/null

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$repo/TestResults"
rm -rf "$results"
status=0
for project in tests/Pipeline.UnitTests tests/Pipeline.IntegrationTests; do
  echo "== $project"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=$(basename "$project")" --results-directory "$results" \
    --blame-hang-timeout 10m "$@" || status=1
done
exit $status
