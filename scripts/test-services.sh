#!/usr/bin/env bash
# Installs (Debian packages, npm) and starts what the test suite needs, on loopback only, and
# writes .test-services/env for `make test` to source. Safe to run again: it reuses what runs.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=.test-services
mkdir -p "$STATE"

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "test-services: please install ${need[*]} (Debian packages); this script needs root to do it" >&2
    exit 1
  fi
  echo "test-services: installing ${need[*]} ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: the newest installed major version's "main" cluster, on 127.0.0.1.
pgver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$pgver main" || pg_createcluster "$pgver" main >/dev/null
pg_lsclusters -h | awk -v v="$pgver" '$1==v && $2=="main" {print $4}' | grep -q online || pg_ctlcluster "$pgver" main start
pgport=$(pg_lsclusters -h | awk -v v="$pgver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$pgport" && break; sleep 0.5; done
su postgres -c "psql -q -p $pgport -c \"alter user postgres password 'postgres'\"" >/dev/null

# Redis on a port of its own, in memory only.
redis_port=6399
if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile "$PWD/$STATE/redis.log" >/dev/null
  for _ in $(seq 1 30); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

# The Node SDK, pinned by the lock file, for the SDK end-to-end test.
if [ -f tests/e2e/node/package-lock.json ]; then
  (cd tests/e2e/node && npm ci --silent --no-audit --no-fund >/dev/null)
fi
# Cronofy's UI Elements, pinned by the lock file, for the Elements browser tests.
if [ -f tests/e2e/elements/package-lock.json ]; then
  (cd tests/e2e/elements && npm ci --silent --no-audit --no-fund >/dev/null)
fi

cat > "$STATE/env" <<ENV
export HORAE_TEST_BACKENDS=sqlite,postgres
export HORAE_TEST_POSTGRES_URL=postgresql://postgres:postgres@127.0.0.1:$pgport/postgres
export HORAE_TEST_REDIS_URL=redis://127.0.0.1:$redis_port
export HORAE_TEST_CHROMIUM=$(command -v chromium)
ENV
echo "test-services: PostgreSQL $pgver on :$pgport, Redis on :$redis_port, $(chromium --version 2>/dev/null | head -n 1)" >&2
