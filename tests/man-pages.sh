#!/usr/bin/env bash
# Every man page renders without warnings, and for each tool every long option
# of --help appears in its page and every option the page documents is in --help.
source "$(dirname "$0")/lib.sh"
command -v groff >/dev/null || skip "groff not installed"
shopt -s nullglob
for page in "$TOP"/man/*.[17]; do
  warnings=$(groff -man -ww -z "$page" 2>&1)
  [ -z "$warnings" ] || fail "$page: $warnings"
done
for tool in "$BIN"/tfm-*; do
  name=$(basename "$tool")
  page="$TOP/man/$name.1"
  [ -f "$page" ] || { fail "$name has no man page man/$name.1"; continue; }
  help_opts=$("$tool" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
  # Options are written \-\-name in the page source; only its OPTIONS
  # section counts (examples may show other tools' options).
  page_opts=$(awk '/^\.SH/ {in_options = ($2 == "OPTIONS")} in_options' "$page" \
    | sed 's/\\-/-/g' | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
  missing=$(comm -23 <(echo "$help_opts") <(echo "$page_opts"))
  [ -z "$missing" ] || fail "$page lacks options from --help: $(echo $missing)"
  extra=$(comm -13 <(echo "$help_opts") <(echo "$page_opts"))
  [ -z "$extra" ] || fail "$page documents options $name --help does not show: $(echo $extra)"
done
finish
