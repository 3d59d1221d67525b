#!/bin/sh
# Make sure the Debian packages a target needs are installed: as root, install what is missing
# (apt-get); otherwise print the exact command and fail. Usage: tests/deps.sh build|test
set -u
build="gcc make pkg-config libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libcurl4-openssl-dev
  libsqlite3-dev libpq-dev libcjson-dev libyaml-dev libssl-dev libsystemd-dev libical-dev tzdata"
test="clang libclang-rt-14-dev libcmocka-dev python3 python3-aiohttp python3-yaml python3-icalendar python3-aiosmtpd python3-psycopg2
  prometheus-alertmanager sqlite3 curl openssl nodejs chromium default-jre-headless postgresql-15"
case "${1:-build}" in
  build) want=$build ;;
  test) want="$build $test" ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1
    apt-get install -y -q --no-install-recommends $missing >/dev/null || {
      echo "could not install:$missing" >&2; exit 1; }
  }
  exit 0
fi
echo "missing Debian packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
