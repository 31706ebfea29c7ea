#!/bin/bash -eu
# Builds the fuzz targets into $OUT for ClusterFuzzLite / OSS-Fuzz (they set SRC, OUT and
# SANITIZER). Also runs locally as a dry run:
#   SRC=/tmp/cfl OUT=/tmp/cfl/out SANITIZER=none bash .clusterfuzzlite/build.sh
# (with /tmp/cfl/sslwrite a checkout or a link to one).
cd "$SRC/sslwrite"
sanitizer_args=()
if [ "${SANITIZER:-address}" = "none" ] || ! rustup toolchain list 2>/dev/null | grep -q nightly; then
  # Stable toolchain, or no sanitizer wanted: cargo-fuzz's -s none.
  sanitizer_args=(-s none)
fi
features=()
if ! pkg-config --exists openssl 2>/dev/null; then
  features=(--features vendored)
fi
cargo fuzz build -O "${sanitizer_args[@]}" "${features[@]}"
mkdir -p "$OUT"
for target in differential invariants scenario_file; do
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
done
