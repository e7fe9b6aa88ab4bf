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
  slurm-wlm munge
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf gdb-multiarch
  # Linux guest (docs/linux-driver.md): QEMU with the multi-process PCI proxy, the guest's
  # initramfs tools, and headers for building driver/linux/ against the pinned guest kernel.
  qemu-system-x86 busybox-static cpio kmod
  # libFuzzer targets of the parsers (tests/fuzz, tools/fuzz.sh).
  clang libclang-rt-14-dev
  # RTL models of the compute tile (rtl-models/, docs/calibration.md): Verilator builds them to
  # C++ for the RTL-in-the-loop engines (compute.matrix.model=rtl) and their own testbenches.
  verilator
)
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
