#!/usr/bin/env bash
# Fetches nats-server 2.10.x (auth callout) from Debian 13's package, through the mirror this
# machine's apt already uses, into .cache/nats-server/ (ignored by git). The package holds a
# static Go binary that runs on Debian 12. Nothing of the machine's apt state is touched: the
# package lists go to a private state directory, and the running nats-server is never replaced.
#
#   scripts/fetch-nats-server.sh        prints the binary's path (fetching it when missing)
#   HERALD_NATS_SERVER=/path/nats-server   tests use that binary instead
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${HERALD_NATS_CACHE:-$PWD/.cache/nats-server}"
BIN="$CACHE/bin/nats-server"
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

# The Debian mirror this machine uses: the first deb URI of its apt sources (deb822 or one-line).
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):.*\/debian\/?$/) { print $i; exit } }' "$f")
    [ -n "$mirror" ] && break
  done
fi
if [ -z "$mirror" ]; then
  echo "fetch-nats-server: no Debian mirror (…/debian) found in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$work/parts/trixie.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: $keyring
SOURCES
apt_opts=(
  -o "Dir::Etc::SourceList=$work/none.list"
  -o "Dir::Etc::SourceParts=$work/parts"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)
echo "fetch-nats-server: reading trixie's package list from $mirror" >&2
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq download nats-server >&2)
deb=$(ls "$work"/nats-server_*.deb)
dpkg -x "$deb" "$work/x"
mkdir -p "$CACHE/bin"
install -m 0755 "$work/x/usr/sbin/nats-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
version=$("$BIN" --version)
case "$version" in
  *v2.1[0-9].* | *v2.[2-9][0-9].* | *v[3-9].*) ;;
  *)
    echo "fetch-nats-server: $deb holds $version, older than 2.10 (no auth callout)" >&2
    rm -f "$BIN"
    exit 1
    ;;
esac
echo "fetch-nats-server: $version from $(basename "$deb")" >&2
echo "$BIN"
