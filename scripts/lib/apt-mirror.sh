# Sourced by the scripts that fetch from the Debian mirror this host's apt uses.
# host_uri SUITE prints that mirror's URI for SUITE (empty when no source lists it).

# sources_files lists the host's apt source files, one-line and deb822 ones.
sources_files() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && echo "$f"
  done
  return 0
}

# host_uri SUITE prints the first URI whose source lists SUITE exactly
# (`deb [opts] URI SUITE ...` lines and `URIs:`/`Suites:` stanzas).
host_uri() {
  local want="$1" f line uri suites
  while read -r f; do
    if [[ "$f" == *.sources ]]; then
      uri="" suites=""
      # A blank line ends a stanza; the extra echo ends the last one.
      while IFS= read -r line; do
        line="${line%%#*}"
        case "$line" in
        URIs:*) read -r _ uri _ <<<"$line" ;;
        Suites:*) suites=" ${line#Suites:} " ;;
        *[![:space:]]*) ;;
        *)
          if [[ -n "$uri" && "$suites" =~ [[:space:]]$want[[:space:]] ]]; then echo "$uri"; return 0; fi
          uri="" suites="" ;;
        esac
      done < <(cat "$f"; echo)
    else
      while read -r -a words; do
        [[ "${words[0]:-}" == deb ]] || continue
        local i=1
        if [[ "${words[1]:-}" == \[* ]]; then
          while [[ "${words[i]}" != *\] ]]; do i=$((i + 1)); done
          i=$((i + 1))
        fi
        if [[ "${words[i + 1]:-}" == "$want" ]]; then echo "${words[i]}"; return 0; fi
      done < <(sed 's/#.*//' "$f")
    fi
  done < <(sources_files)
  return 0
}
