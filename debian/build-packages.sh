#!/bin/sh
# build-packages.sh STAGE VERSION: the Debian packages tfm (tools, man pages,
# data), libtfm0 (the shared library and the helper programs it runs) and
# libtfm-dev (headers, static library, link) from STAGE/root, a `make install
# PREFIX=/usr LIBDIR=/usr/lib/<multiarch> HELPERDIR=/usr/lib/<multiarch>/libtfm0`
# tree (what `make deb` runs), into STAGE/*.deb. dpkg's own tools do the work that needs knowing
# Debian: dpkg-shlibdeps computes Depends from the libraries the binaries
# load, dpkg-gencontrol writes the control files (version from
# debian/changelog, Installed-Size), dpkg-deb builds the archives (files owned
# by root, so no fakeroot). Run from the top of the source tree (`make deb`).
set -eu
stage=$1 version=$2
root=$stage/root
umask 022

die() { echo "build-packages.sh: $*" >&2; exit 1; }
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "${deb_version%-*}" = "$version" ] ||
  die "debian/changelog is at $deb_version, the Makefile at $version: add a changelog entry"
multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)
libdir=usr/lib/$multiarch
soversion=${version%%.*}
helperdir=$libdir/libtfm$soversion
[ -e "$root/$libdir/libtfm.so.$version" ] || die "$root/$libdir/libtfm.so.$version missing (run make deb)"
# The archives' file times: the changelog's date, so that a rebuild gives the same bytes.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l debian/changelog -S Timestamp)
export SOURCE_DATE_EPOCH

packages="tfm libtfm0 libtfm-dev"
for p in $packages; do rm -rf "${stage:?}/$p"; mkdir -p "$stage/$p/DEBIAN"; done
rm -f "$stage"/*.deb "$stage/files" "$stage"/*.substvars

take() {  # package path...: moves installed paths into the package's tree
  p=$1; shift
  for path; do
    mkdir -p "$(dirname "$stage/$p/$path")"
    mv "$root/$path" "$stage/$p/$path"
  done
}
take tfm usr/bin usr/share/man usr/share/tfm
# The helper programs belong to the library, which starts them: a program
# linked with libtfm.so.0 alone needs them too.
take libtfm0 "$libdir/libtfm.so.$version" "$libdir/libtfm.so.$soversion" "$helperdir"
take libtfm-dev usr/include "$libdir/libtfm.a" "$libdir/libtfm.so"
left=$(cd "$root" && find . ! -type d)
[ -z "$left" ] || die "installed but in no package: $left"

# Debug information stays in the build folder; the options are debhelper's.
for f in "$stage"/tfm/usr/bin/* "$stage/libtfm0/$helperdir"/*; do
  case $(head -c 4 "$f") in "$(printf '\177ELF')") strip --remove-section=.comment --remove-section=.note "$f" ;; esac
done
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/libtfm0/$libdir/libtfm.so.$version"
strip --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives \
  "$stage/libtfm-dev/$libdir/libtfm.a"

# Policy 12.3: man pages compressed with gzip -9n (no name or time inside).
find "$stage/tfm/usr/share/man" -type f -exec gzip -9n {} +

for p in $packages; do
  doc=$stage/$p/usr/share/doc/$p
  mkdir -p "$doc"
  cp debian/copyright "$doc/copyright"
  gzip -9nc debian/changelog > "$doc/changelog.Debian.gz"
  # tfm is not uploaded to Debian: no ITP bug for the first entry to close.
  mkdir -p "$stage/$p/usr/share/lintian/overrides"
  echo "$p: initial-upload-closes-no-bugs" > "$stage/$p/usr/share/lintian/overrides/$p"
done

# libtfm0 provides the library: its shlibs file says which package and
# version a program linked with libtfm.so.0 needs, and ldconfig runs after
# it is installed or removed.
echo "libtfm $soversion libtfm0 (>= $version)" > "$stage/libtfm0/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$stage/libtfm0/DEBIAN/triggers"

elf_files() {  # the ELF executables and shared libraries of a package's tree
  find "$1" -type f \( -perm -u+x -o -name '*.so*' \) | while read -r f; do
    [ "$(head -c 4 "$f")" = "$(printf '\177ELF')" ] && echo "$f"
  done
}
for p in $packages; do
  substvars=$stage/$p.substvars
  echo "misc:Depends=" > "$substvars"
  elves=$(elf_files "$stage/$p")
  # shellcheck disable=SC2086  # one argument per file (paths have no spaces)
  [ -z "$elves" ] || dpkg-shlibdeps -T"$substvars" $elves
  (cd "$stage/$p" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/$p/DEBIAN/md5sums"
  find "$stage/$p" -type d -exec chmod 755 {} +
  chmod 644 "$stage/$p/DEBIAN/md5sums"
  dpkg-gencontrol -p"$p" -cdebian/control -ldebian/changelog -T"$substvars" \
    -P"$stage/$p" -f"$stage/files"
  dpkg-deb --root-owner-group -Zxz --build "$stage/$p" "$stage" >/dev/null
done
ls "$stage"/*.deb
