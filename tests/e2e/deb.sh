#!/usr/bin/env bash
# `make deb`: the packages tfm, libtfm0 and libtfm-dev, made from the built
# files. Their contents (tools in /usr/bin, the library and its soname in the
# multiarch folder with its helper programs in libtfm0 there, man pages
# compressed with gzip -9n, data in /usr/share/tfm, copyright and changelog),
# the Depends that dpkg-shlibdeps computed, lintian (where installed) without
# errors; as root, dpkg -i on this system: libtfm0 alone runs a program linked
# with it on a file of an earlier version (read by the helper), then with all
# three installed tools run from an unrelated folder and a program builds
# against libtfm-dev; then dpkg --purge, leaving nothing behind, even when a
# check fails.
source "$(dirname "$0")/../lib.sh"
[[ $TFM_BUILD == *asan* ]] && skip "the packages are made from the plain build"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps not found (make deps installs dpkg-dev)"
make -s -C "$TOP" deb BUILD="$TFM_BUILD" >"$WORK/make.log" 2>&1 ||
  { cat "$WORK/make.log"; fail "make deb"; exit 1; }
version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)
libdir=usr/lib/$multiarch
packages=(tfm libtfm0 libtfm-dev)
for p in "${packages[@]}"; do
  deb=$TOP/$TFM_BUILD/deb/${p}_${version}_amd64.deb
  [ -f "$deb" ] || { fail "make deb made no $deb"; exit 1; }
  debs+=("$deb")
  dpkg-deb -x "$deb" "$WORK/$p"
  dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||' > "$WORK/$p.list"
  dpkg-deb -f "$deb" Depends > "$WORK/$p.depends"
  # Copyright (DEP-5) and changelog in every package, as policy says.
  doc=$WORK/$p/usr/share/doc/$p
  head -n 1 "$doc/copyright" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
    fail "$p: no DEP-5 copyright file"
  [ "$(zcat "$doc/changelog.Debian.gz" | head -n 1 | cut -d' ' -f1-2)" = "tfm ($version)" ] ||
    fail "$p: changelog.Debian.gz is not the changelog of $version"
done
has() {  # package path: the package holds the path
  grep -qx "$2" "$WORK/$1.list" || fail "$1 lacks $2"
}

# tfm: every tool, every man page (compressed, no name or time stamp inside), the data.
for tool in "$TOP"/tools/tfm-*; do has tfm "usr/bin/$(basename "${tool%.cpp}")"; done
for page in "$TOP"/man/*.[17]; do
  gz=usr/share/man/man${page##*.}/$(basename "$page").gz
  has tfm "$gz"
  [ -f "$WORK/tfm/$gz" ] || continue
  cmp -s <(gzip -9nc "$page") "$WORK/tfm/$gz" || fail "$gz is not gzip -9n of man/$(basename "$page")"
done
grep -q '^usr/share/man/.*[17]$' "$WORK/tfm.list" && fail "uncompressed man pages in tfm"
has tfm usr/share/tfm/nonbreaking_prefixes/nonbreaking_prefix.en
# libtfm0: the library under its soname and the helper programs it starts
# (found through the folder compiled in); libtfm-dev: headers, static library, link.
has libtfm0 "$libdir/libtfm.so.${version%-*}"
has libtfm0 "$libdir/libtfm.so.0"
for helper in "$TOP"/tools/helpers/tfm-*.cpp; do has libtfm0 "$libdir/libtfm0/$(basename "${helper%.cpp}")"; done
grep -q '^usr/lib/tfm' "$WORK/tfm.list" && fail "tfm holds helper programs (they belong to libtfm0)"
soname=$(readelf -d "$WORK/libtfm0/$libdir/libtfm.so.${version%-*}" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libtfm.so.0 ] || fail "libtfm's soname is '$soname', not libtfm.so.0"
[ "$(readlink "$WORK/libtfm-dev/$libdir/libtfm.so")" = libtfm.so.0 ] || fail "libtfm-dev: libtfm.so does not link to libtfm.so.0"
has libtfm-dev "$libdir/libtfm.a"
has libtfm-dev usr/include/tfm/tensor/isa.h
dpkg-deb -I "${debs[1]}" shlibs | grep -qx "libtfm 0 libtfm0 (>= ${version%-*})" || fail "libtfm0 has no shlibs file"

# Depends as dpkg-shlibdeps computes it: the packages of the libraries the
# binaries load, with the versions their symbols need (debian/control names none).
for p in tfm libtfm0; do
  for want in 'libc6 (>= ' 'libstdc++6 (>= ' libhdf5- libboost-program-options libopenblas libdnnl libpcre2-8; do
    grep -qF "$want" "$WORK/$p.depends" || fail "$p's Depends names no $want: $(cat "$WORK/$p.depends")"
  done
done
# The tools link libtfm statically but start its helper programs, which libtfm0 holds.
for p in tfm libtfm-dev; do
  grep -q "libtfm0 (= $version)" "$WORK/$p.depends" || fail "$p does not depend on libtfm0 $version"
done

if command -v lintian >/dev/null; then
  # Warnings are shown in the log; errors fail. (lintian warns when run as root.)
  lintian --fail-on error "${debs[@]}" >"$WORK/lintian.log" 2>&1 || fail "lintian: $(grep -v 'root privileges' "$WORK/lintian.log")"
  grep -v 'root privileges' "$WORK/lintian.log"
else
  leave_out "lintian (not installed: apt-get install lintian)"
fi

# Installing on this system, as root only; a lock keeps two test runs apart,
# and packages already installed (someone's own) are left alone.
installed() { dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null | grep -q 'install ok installed'; }
dpkg_retrying() {  # dpkg args...: waits (60 s at most) for a lock another dpkg or apt holds
  local tries=30
  while [ $((tries -= 1)) -ge 0 ]; do
    dpkg "$@" >"$WORK/dpkg.log" 2>&1 && return 0
    grep -q 'lock' "$WORK/dpkg.log" || break
    sleep 2
  done
  cat "$WORK/dpkg.log"; return 1
}
purge() { dpkg_retrying --purge libtfm-dev tfm libtfm0 || fail "dpkg --purge"; }
if [ "$(id -u)" != 0 ]; then
  leave_out "dpkg -i on this system (needs root; CI runs the tests as root)"
elif ! exec {lock}>/var/lock/tfm-deb-test || ! flock -w 600 "$lock"; then
  fail "no lock on /var/lock/tfm-deb-test"
elif installed tfm || installed libtfm0 || installed libtfm-dev; then
  leave_out "dpkg -i on this system (tfm packages already installed here: left alone)"
else
  trap 'purge; rm -rf "$WORK"' EXIT
  trap 'exit 1' INT TERM HUP
  mkdir "$WORK/elsewhere" && cd "$WORK/elsewhere" || exit 1
  unset TFM_DATA_DIR TFM_BIN
  # libtfm0 alone: a program linked with it (built against the unpacked
  # libtfm-dev) reads a string attribute of an earlier version's layout
  # (variable-length, made with h5py), which only the helper program reads.
  dpkg_retrying -i "${debs[1]}" || fail "dpkg -i libtfm0"
  if have_python h5py; then
    /usr/bin/python3 -c 'import h5py, sys; h5py.File(sys.argv[1], "w").attrs["format"] = "tfm-old"' old.h5 ||
      fail "h5py: old.h5"
    printf '#include <iostream>\n#include "tfm/data/batch_file.h"\nint main(int, char** argv) { std::cout << tfm::describe_file(argv[1]); }\n' > describe.cpp
    if g++ -std=c++20 -I"$WORK/libtfm-dev/usr/include" -I/usr/include/hdf5/serial describe.cpp \
         -L"$WORK/libtfm0/$libdir" -l:libtfm.so.0 -o describe 2>"$WORK/link.log"; then
      ./describe old.h5 2>&1 | grep -qx '  format: tfm-old' ||
        fail "a program linked with libtfm0 alone, on a file of an earlier version: $(./describe old.h5 2>&1 | head -n 3)"
    else
      fail "linking with the unpacked libtfm0: $(head -c 600 "$WORK/link.log")"
    fi
  fi
  dpkg_retrying -i "${debs[@]}" || fail "dpkg -i"
  [ "$(command -v tfm-tokenize)" = /usr/bin/tfm-tokenize ] || fail "tfm-tokenize is not /usr/bin/tfm-tokenize"
  # Built-in nonbreaking prefixes found in /usr/share/tfm: "Mr." stays one token.
  [ "$(echo "Mr. Smith left." | tfm-tokenize -l en 2>&1)" = "Mr. Smith left ." ] ||
    fail "installed tfm-tokenize: $(echo "Mr. Smith left." | tfm-tokenize -l en 2>&1)"
  tfm-train --version | grep -q "^kernels .*GEMM" || fail "installed tfm-train --version: $(tfm-train --version 2>&1)"
  # The tools (libtfm linked in) find libtfm0's helper too.
  [ ! -f old.h5 ] || tfm-batch --info old.h5 2>&1 | grep -qx '  format: tfm-old' ||
    fail "installed tfm-batch --info of a file of an earlier version: $(tfm-batch --info old.h5 2>&1 | head -n 3)"
  man -w tfm-train 2>/dev/null | grep -qx /usr/share/man/man1/tfm-train.1.gz || fail "man -w tfm-train: $(man -w tfm-train 2>&1)"
  # A program built against libtfm-dev loads libtfm.so.0 from the multiarch
# folder (/lib is /usr/lib on a merged-/usr system).
  printf '#include <cstdio>\n#include "tfm/tensor/isa.h"\nint main() { std::puts(tfm::isa_name(tfm::isa_level())); }\n' > isa.cpp
  if g++ -std=c++20 isa.cpp -ltfm -o isa 2>"$WORK/link.log"; then
    ./isa | grep -Eqx 'baseline|avx2|avx512|avx512bf16' || fail "program linked with the installed libtfm: $(./isa 2>&1)"
    ldd ./isa | grep -Eq "libtfm.so.0 => (/usr)?/lib/$multiarch/libtfm.so.0 " ||
      fail "isa loads no /$libdir/libtfm.so.0: $(ldd ./isa | grep libtfm)"
  else
    fail "linking with the installed libtfm: $(head -c 600 "$WORK/link.log")"
  fi
  cd "$WORK" || exit 1
  purge
  trap 'rm -rf "$WORK"' EXIT
  for p in "${packages[@]}"; do installed "$p" && fail "$p still installed after dpkg --purge"; done
  for f in /usr/bin/tfm-train /usr/share/tfm /"$libdir"/libtfm.so.0 /"$libdir"/libtfm0 /usr/include/tfm /usr/share/doc/tfm; do
    [ -e "$f" ] && fail "$f left after dpkg --purge"
  done
fi
finish
