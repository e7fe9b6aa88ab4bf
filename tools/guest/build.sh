#!/usr/bin/env bash
# Builds the Linux guest for `accelvp qemu` (docs/linux-driver.md):
#   - the aax kernel module (driver/linux) against the pinned kernel's headers,
#   - the user-space tools (driver/tools, static),
#   - a gzip cpio initramfs: busybox, the module and what it needs from the kernel
#     package's module tree, the firmware ELF, the tools and an /init that runs the checks.
# Usage: tools/guest/build.sh [OUT_DIR] [FIRMWARE_ELF]     (defaults: build/guest, build/firmware/accelvp-fw.elf)
# Everything comes from Debian packages that tools/setup.sh installs or unpacks.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/build/guest}")"
FW="${2:-$ROOT/build/firmware/accelvp-fw.elf}"
GUEST_CACHE="${ACCELVP_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/accelvp/guest}"
# The version tools/setup.sh set up (the pinned one unless the archive dropped it);
# ACCELVP_GUEST_KVER picks another whose headers are installed (e.g. 6.12.118+deb12: the accel path).
KVER="${ACCELVP_GUEST_KVER:-$(cat "$GUEST_CACHE/kernel-version" 2>/dev/null || cat "$ROOT/tools/guest/kernel-version")}"
KREL="${KVER}-amd64"
KDIR="/usr/src/linux-headers-${KREL}"
KIMG="$GUEST_CACHE/linux-image-${KVER}"
# The accel-path kernel (tools/setup.sh unpacks its headers, kbuild and image together).
if [ -f "$GUEST_CACHE/accel-${KVER}/.unpacked" ]; then
  KIMG="$GUEST_CACHE/accel-${KVER}"
  KDIR="$KIMG/usr/src/linux-headers-${KREL}"
fi
MODTREE="$KIMG/lib/modules/${KREL}"

for need in "$KDIR/Makefile" "$KIMG/boot/vmlinuz-${KREL}" /bin/busybox "$FW"; do
  [ -e "$need" ] || { echo "guest/build.sh: missing $need (run tools/setup.sh and build the firmware)" >&2; exit 2; }
done
command -v cpio >/dev/null || { echo "guest/build.sh: cpio missing (tools/setup.sh)" >&2; exit 2; }

mkdir -p "$OUT"
# 1. The module, built from a copy so the source tree stays clean.
rm -rf "$OUT/kmod" && mkdir -p "$OUT/kmod"
cp -r "$ROOT"/driver/linux/{Kbuild,aax_drv.c,compat} "$OUT/kmod/"
make -s -C "$KDIR" M="$OUT/kmod" AAX_ROOT="$ROOT" modules >"$OUT/kmod.log" 2>&1 || { cat "$OUT/kmod.log" >&2; exit 1; }
# 2. The tools.
for t in aax-info aax-run; do
  gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -I"$ROOT" -o "$OUT/$t" \
    "$ROOT/driver/tools/$t.c" "$ROOT/driver/libaax/aax.c"
done
# 3. The initramfs.
R="$OUT/rootfs"
rm -rf "$R" && mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules,lib/firmware/aax}
cp /bin/busybox "$R/bin/busybox"
cp "$OUT/aax-info" "$OUT/aax-run" "$R/bin/"
cp "$FW" "$R/lib/firmware/aax/aax-fw.elf"
cp "$OUT/kmod/aax.ko" "$R/lib/modules/"
# Module dependencies, depth first, from the kernel package's module tree.
declare -A seen=()
order=()
add_deps() {
  local deps d f
  deps="$(/sbin/modinfo -F depends "$1" | tr ',' ' ')"
  for d in $deps; do
    [ -n "${seen[$d]:-}" ] && continue
    seen[$d]=1
    f="$(find "$MODTREE/kernel" -name "$d.ko" -o -name "$d.ko.xz" | head -1)"
    [ -n "$f" ] || { echo "guest/build.sh: module $d not in $MODTREE" >&2; exit 1; }
    add_deps "$f"
    case "$f" in  # 6.12 ships modules xz-compressed: busybox insmod takes them plain
      *.xz) xz -dc "$f" >"$R/lib/modules/$d.ko"; order+=("$d.ko") ;;
      *) cp "$f" "$R/lib/modules/"; order+=("$(basename "$f")") ;;
    esac
  done
}
add_deps "$OUT/kmod/aax.ko"
printf '%s\n' "${order[@]}" >"$R/lib/modules/order"
cp "$ROOT/tools/guest/init" "$R/init"
chmod 755 "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.cpio.gz"
cp "$KIMG/boot/vmlinuz-${KREL}" "$OUT/vmlinuz"
echo "guest: $OUT/vmlinuz $OUT/initrd.cpio.gz (modules: ${order[*]} aax.ko)"
