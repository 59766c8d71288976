#!/usr/bin/env bash
# Builds librdkafka 2.15.1 (TLS, zstd, lz4) from the source carried inside the npm package
# @confluentinc/kafka-javascript@1.10.1 and packs it as the local NuGet package librdkafka.redist 2.15.1,
# the native half of Confluent.Kafka 2.15.1 that the NuGet mirror here lacks.
#
# Idempotent and cached: the build lives in $PIPELINE_CACHE (default ~/.cache/pipeline) keyed by a hash of
# this script and the patch, so a second run only copies the package into the repository's local feed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=2.15.1
npm_package=@confluentinc/kafka-javascript@1.10.1
feed="$repo/.nuget-local"
cache_root=${PIPELINE_CACHE:-$HOME/.cache/pipeline}
key=$(cat "$here/build.sh" "$here/mock-retention.patch" "$here/librdkafka.redist.nuspec" | sha256sum | cut -c1-12)
cache="$cache_root/librdkafka-$version-$key"
nupkg="librdkafka.redist.$version.nupkg"

log() { printf '[librdkafka] %s\n' "$*" >&2; }

if [[ -f "$cache/$nupkg" ]]; then
  mkdir -p "$feed"
  cmp -s "$cache/$nupkg" "$feed/$nupkg" || cp "$cache/$nupkg" "$feed/$nupkg"
  log "cached: $feed/$nupkg"
  exit 0
fi

"$repo/infra/apt-install.sh" build-essential pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev zip

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "fetching $npm_package"
(cd "$work" && npm pack --silent "$npm_package" >/dev/null 2>&1 && tar xzf ./*.tgz)
src="$work/package/deps/librdkafka"
grep -q "RD_KAFKA_VERSION 0x020f01ff" "$src/src/rdkafka.h" || { log "unexpected librdkafka version in $npm_package"; exit 1; }

log "patching the mock cluster's per-partition retention (see mock-retention.patch)"
patch -d "$src" -p1 --quiet < "$here/mock-retention.patch"

log "configuring and building (about a minute)"
(cd "$src" && ./configure --disable-gssapi --disable-curl --enable-ssl --enable-zstd --enable-lz4-ext >"$work/configure.log" 2>&1) \
  || { tail -40 "$work/configure.log"; exit 1; }
make -C "$src/src" -j"$(nproc)" librdkafka.so.1 >"$work/make.log" 2>&1 || { tail -40 "$work/make.log"; exit 1; }

log "packing $nupkg"
pack="$work/pack"
mkdir -p "$pack/runtimes/linux-x64/native"
cp "$src/src/librdkafka.so.1" "$pack/runtimes/linux-x64/native/librdkafka.so"
strip --strip-unneeded "$pack/runtimes/linux-x64/native/librdkafka.so"
cp "$here/librdkafka.redist.nuspec" "$pack/librdkafka.redist.nuspec"
cp "$src/LICENSE" "$pack/LICENSE"
(cd "$pack" && zip -q -r -X "$work/$nupkg" .)

mkdir -p "$cache" "$feed"
cp "$work/$nupkg" "$cache/$nupkg.tmp" && mv "$cache/$nupkg.tmp" "$cache/$nupkg"
cp "$cache/$nupkg" "$feed/$nupkg"
# A stale copy of an earlier build in the global packages folder would shadow this one.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/librdkafka.redist/$version"
log "built: $feed/$nupkg"
