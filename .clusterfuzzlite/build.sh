#!/bin/bash -eu
# Builds the fuzz targets into $OUT for ClusterFuzzLite / OSS-Fuzz (they set SRC, OUT and
# SANITIZER). Also runs locally as a dry run:
#   SRC=/tmp/cfl OUT=/tmp/cfl/out SANITIZER=none bash .clusterfuzzlite/build.sh
# (with /tmp/cfl/sslwrite a checkout or a link to one).
#
# Besides the three targets (the built-in implementations), every library of another stack
# that the build image has (Dockerfile: Debian/Ubuntu's android-libboringssl and libwolfssl)
# becomes a target of its own: `differential_boringssl`, `differential_wolfssl`. The runner
# image has none of those packages, so the library is copied into $OUT/lib and named in
# `TARGET.impls` beside the binary (paths relative to it), which the target reads when
# SSLWRITE_FUZZ_IMPL is not set.
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
# cargo fuzz builds in fuzz/target unless CARGO_TARGET_DIR names another folder.
bin="${CARGO_TARGET_DIR:-fuzz/target}/x86_64-unknown-linux-gnu/release"
for target in differential invariants scenario_file; do
  cp "$bin/$target" "$OUT/"
done
# The loader target starts from the suite's scenario files (the run targets need no seeds: any
# bytes make a valid write sequence).
python3 - "$OUT/scenario_file_seed_corpus.zip" scenarios/*.json <<'PY'
import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for f in sys.argv[2:]:
        z.write(f, os.path.basename(f))
PY

# with_library NAME KIND FILE [COMPANION...]: differential_NAME against the linked OpenSSL.
with_library() {
  local name=$1 kind=$2 file=$3
  shift 3
  if [ ! -e "$file" ]; then
    echo "build.sh: no $name in this image ($file): differential_$name not built"
    return
  fi
  mkdir -p "$OUT/lib/$name"
  cp -L "$file" "$OUT/lib/$name/"
  local f
  for f in "$@"; do
    [ -e "$f" ] && cp -L "$f" "$OUT/lib/$name/"
  done
  cp "$bin/differential" "$OUT/differential_$name"
  printf 'openssl\n%s:lib/%s/%s@%s\n' "$kind" "$name" "$(basename "$file")" "$name" \
    >"$OUT/differential_$name.impls"
  echo "build.sh: differential_$name fuzzes the linked OpenSSL against $file"
}
android=/usr/lib/x86_64-linux-gnu/android
with_library boringssl libssl "$android/libssl.so.0" "$android/libcrypto.so.0"
wolfssl=$(ls /usr/lib/x86_64-linux-gnu/libwolfssl.so.[0-9]* 2>/dev/null | head -n 1 || true)
with_library wolfssl wolfssl "${wolfssl:-/nonexistent/libwolfssl.so}"
