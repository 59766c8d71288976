#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then integration tests against Kafka, a private PostgreSQL and real
# peers (logger, rsyslog, curl). Installs and builds what it needs first.
#   infra/test.sh [extra dotnet test arguments, e.g. --filter Edge]
# Kafka is chosen by PIPELINE_TEST_KAFKA: unset → the embedded cluster (a fresh one per test, with fault
# injection); host:port[,…] → that running Kafka; testcontainers → Apache Kafka in a container (needs a Docker
# engine; without one those tests report skipped). With the default (and no arguments), the tests marked ExternalKafka run a
# second time against an embedded cluster started apart (infra/ops.sh embedded-kafka) and reached only by its
# address, so the path a real Kafka takes — topics through the admin API, or created by the broker — keeps working.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
infra/setup.sh
infra/postgres/cluster.sh start --database postgres >/dev/null

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$repo/TestResults"
rm -rf "$results"
status=0
run_tests() { # project, log prefix, extra arguments
  local project=$1 prefix=$2
  shift 2
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=$prefix" --results-directory "$results" \
    --blame-hang-timeout 10m "$@" || status=1
}
for project in tests/Pipeline.UnitTests tests/Pipeline.IntegrationTests; do
  echo "== $project (Kafka: ${PIPELINE_TEST_KAFKA:-embedded})"
  run_tests "$project" "$(basename "$project")" "$@"
done

if [[ -z ${PIPELINE_TEST_KAFKA:-} && $# -eq 0 ]]; then
  echo "== tests/Pipeline.IntegrationTests, Category=ExternalKafka, against an embedded cluster run apart (PIPELINE_TEST_KAFKA=host:port)"
  mkdir -p "$results"
  bootstrap_file=$(mktemp -u)
  infra/ops.sh embedded-kafka --brokers 3 --bootstrap-file "$bootstrap_file" > "$results/embedded-kafka.log" 2>&1 &
  cluster=$!
  trap 'kill "$cluster" 2>/dev/null || true; wait "$cluster" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do [[ -s $bootstrap_file ]] && break; kill -0 "$cluster" 2>/dev/null || break; sleep 0.5; done
  if [[ -s $bootstrap_file ]]; then
    PIPELINE_TEST_KAFKA=$(cat "$bootstrap_file") run_tests tests/Pipeline.IntegrationTests Pipeline.IntegrationTests.ExternalKafka --filter "Category=ExternalKafka"
  else
    echo "the embedded cluster did not start:" >&2
    cat "$results/embedded-kafka.log" >&2
    status=1
  fi
fi
exit $status
