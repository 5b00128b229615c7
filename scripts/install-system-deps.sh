#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing:
# PostgreSQL (a real server for the PostgreSQL half of the suite), PgBouncer (the purchase and
# idempotency tests also run through it in transaction pooling mode) and Chromium (portal tests).
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Chromium needs fonts to render text in screenshots.
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
[ -x /usr/bin/pdftotext ] || missing+=(poppler-utils)  # the invoice PDF test reads its text

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]} from Debian's packages"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a cluster on install; the tests start their own, so stop it.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    $sudo pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
  done
fi
# Debian may start (and enable) a pgbouncer service on 127.0.0.1:6432; the tests start their own.
if [ -x /usr/sbin/pgbouncer ]; then
  if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now pgbouncer >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/pgbouncer ]; then
    $sudo /etc/init.d/pgbouncer stop >/dev/null 2>&1 || true
    $sudo update-rc.d pgbouncer disable >/dev/null 2>&1 || true
  fi
fi
