#!/usr/bin/env bash
# Install every Debian package accelvp needs that is missing. Idempotent; quiet when
# everything is already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  # Compiler cache: CI rebuilds three trees (Release, asan, fuzz) from a clean clone each time;
  # tools/build.sh and tools/fuzz.sh use it when present (path-independent, see there).
  ccache
  libsystemc-dev catch2 libboost-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  python3 python3-yaml python3-matplotlib
  # ONNX import (workload onnx) and the model fixtures' generator (docs/models.md).
  libonnx-dev libprotobuf-dev python3-onnx
  # The Python module `import accelvp` (python/, docs/python.md): pybind11 and Python's headers;
  # dpkg-dev for `cpack -G DEB` (dpkg-shlibdeps; docs/embedding.md).
  pybind11-dev python3-pybind11 python3-dev dpkg-dev
  slurm-wlm munge
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf gdb-multiarch
  # QEMU's RV32 user-mode emulator: the ISS's speed reference (benchmark case iss-mips-vs-qemu).
  qemu-user
  # Linux guest (docs/linux-driver.md): QEMU with the multi-process PCI proxy, the guest's
  # initramfs tools, and headers for building driver/linux/ against the pinned guest kernel.
  qemu-system-x86 busybox-static cpio kmod
  # The accel-path guest's kbuild (Debian's 6.12 kbuild package depends on it; unpacked below).
  pahole
  # libFuzzer targets of the parsers (tests/fuzz, tools/fuzz.sh).
  clang libclang-rt-14-dev
  # RTL models of the compute tile (rtl-models/, docs/calibration.md): Verilator builds them to
  # C++ for the RTL-in-the-loop engines (compute.matrix.model=rtl) and their own testbenches.
  verilator
  # The trace's offline viewer test (tests/cli/test_trace_view.py, docs/profiling.md): headless
  # Chromium; npm for the viewer (speedscope, pinned in tools/viewer/package-lock.json) below.
  chromium
)
# Node.js and npm from Debian unless the machine already has an npm: a Node.js from elsewhere
# (e.g. a nodejs package that bundles npm) conflicts with Debian's npm package, and apt would
# refuse the whole install.
if ! command -v npm >/dev/null; then PACKAGES+=(nodejs npm); fi
# The guest kernel: one pinned version (tools/guest/kernel-version). Debian drops old ABI
# versions from the archive, so when the pinned one is gone the one linux-image-amd64 depends on
# is used instead (with a note); the version in use is recorded in the guest cache
# ($GUEST_CACHE/kernel-version), which tools/guest/build.sh and the ctest read first.
GUEST_CACHE="${ACCELVP_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/accelvp/guest}"
KVER="$(cat "$(dirname "$0")/guest/kernel-version")"
if ! dpkg-query -W -f='${Status}' "linux-headers-${KVER}-amd64" 2>/dev/null | grep -q "install ok installed" &&
   ! apt-cache show "linux-headers-${KVER}-amd64" >/dev/null 2>&1; then
  apt-get update -qq || true  # the package lists may be older than the archive
  if ! apt-cache show "linux-headers-${KVER}-amd64" >/dev/null 2>&1; then
    now="$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -1)"
    if [ -n "$now" ]; then
      echo "setup: guest kernel ${KVER} (tools/guest/kernel-version) is no longer in the archive; using ${now}" >&2
      KVER="$now"
    fi
  fi
fi
mkdir -p "$GUEST_CACHE"
echo "$KVER" > "$GUEST_CACHE/kernel-version"
PACKAGES+=("linux-headers-${KVER}-amd64")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done" >&2
fi

# The guest kernel image (and its module tree) unpacked into a cache, not installed:
# tools/guest/build.sh takes vmlinuz and the modules the driver needs from there.
KDIR="$GUEST_CACHE/linux-image-${KVER}"
if [ ! -f "$KDIR/boot/vmlinuz-${KVER}-amd64" ]; then
  echo "setup: unpacking linux-image-${KVER}-amd64-unsigned into $KDIR" >&2
  tmp="$(mktemp -d)"; chmod 755 "$tmp"  # apt downloads as _apt
  (cd "$tmp" && apt-get download -qq "linux-image-${KVER}-amd64-unsigned" >/dev/null)
  mkdir -p "$KDIR"
  dpkg-deb -x "$tmp"/linux-image-"${KVER}"-amd64-unsigned_*.deb "$KDIR"
  rm -rf "$tmp"
fi

# The accel registration path (DRIVER_COMPUTE_ACCEL, kernels 6.2+) is built and booted against
# Debian bookworm-security's 6.12 kernel (tools/guest/accel-kernel-version; the newest 6.12 in
# the archive when that one is gone). Its headers, kbuild and image are unpacked into the cache,
# not installed: Debian's 6.12 headers package depends on its image, which would go to /boot.
AKVER="$(cat "$(dirname "$0")/guest/accel-kernel-version")"
if ! apt-cache show "linux-headers-${AKVER}-amd64" >/dev/null 2>&1; then
  now="$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9.]*\+deb12-amd64$' 2>/dev/null |
         sed -n 's/^linux-headers-\(.*\)-amd64 .*/\1/p' | sort -V | tail -1)"
  if [ -n "$now" ]; then
    echo "setup: accel guest kernel ${AKVER} (tools/guest/accel-kernel-version) is no longer in the archive; using ${now}" >&2
    AKVER="$now"
  fi
fi
ADIR="$GUEST_CACHE/accel-${AKVER}"
if [ ! -f "$ADIR/.unpacked" ]; then
  echo "setup: unpacking the ${AKVER} kernel, headers and kbuild into $ADIR" >&2
  tmp="$(mktemp -d)"; chmod 755 "$tmp"
  if (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "linux-headers-${AKVER}-amd64" "linux-headers-${AKVER}-common" \
        "linux-kbuild-${AKVER}" "linux-image-${AKVER}-amd64-unsigned" >/dev/null); then
    rm -rf "$ADIR" && mkdir -p "$ADIR"
    for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$ADIR"; done
    # The arch headers' Makefile includes the common tree by its installed path.
    sed -i "s|^include /usr/src/|include $ADIR/usr/src/|" "$ADIR/usr/src/linux-headers-${AKVER}-amd64/Makefile"
    touch "$ADIR/.unpacked"
  else
    echo "setup: cannot download the ${AKVER} kernel packages; the guest-accel test will be skipped" >&2
  fi
  rm -rf "$tmp"
fi
[ -f "$ADIR/.unpacked" ] && echo "$AKVER" > "$GUEST_CACHE/accel-kernel-version"

# The offline trace viewer (speedscope) from the npm registry, at the version pinned in
# tools/viewer/package-lock.json; only the tests use it (never the build).
VIEWER="$(cd "$(dirname "$0")" && pwd)/viewer"
if [ ! -f "$VIEWER/node_modules/speedscope/dist/release/index.html" ] && command -v npm >/dev/null; then
  echo "setup: installing the trace viewer (speedscope) into $VIEWER/node_modules" >&2
  (cd "$VIEWER" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "setup: npm ci failed in $VIEWER; the trace-viewer test (cli:trace_view) will be skipped" >&2
fi
