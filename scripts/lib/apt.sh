# Sourced by the install scripts: `apt_install WHO PKG...` installs Debian packages as root,
# updating the package lists only if the first try fails (a fresh machine may have none).
# Without root or apt it says what to install and returns 1.
apt_install() {
  local who="$1"
  shift
  [ $# -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    printf '[%s] need %s: install them (as root on Debian/Ubuntu: apt-get install %s)\n' "$who" "$*" "$*" >&2
    return 1
  fi
  printf '[%s] installing %s\n' "$who" "$*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
