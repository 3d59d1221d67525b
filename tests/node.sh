#!/bin/sh
# Install the npm packages the tests use as real peers (tests/node/package-lock.json, pinned):
# twilio (signs the Twilio stand-in's webhooks as Twilio does), playwright-core + axe-core (drive
# Debian's Chromium and check pages for accessibility), vnu-jar (the W3C Nu HTML checker),
# @slack/bolt (the bench's reference bot). `npm ci` only when the lock changed since the last
# install; install scripts are not run (vnu-jar's would fetch a Java; Debian's is used).
set -eu
cd "$(dirname "$0")/node"
stamp=node_modules/.klaxon-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
echo "installing the tests' npm packages (tests/node/package-lock.json)"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
cp package-lock.json "$stamp"
