#!/usr/bin/env bash
# An S3-compatible server for the archive's S3 tests (internal/s3blob):
# Versity Gateway (Apache-2.0) with its posix backend, in a temporary
# directory, on a free loopback port.
#
#   eval "$(.ci/s3.sh)"   start it; prints the export lines the tests read
#   .ci/s3.sh stop        stop the server named by SOUQ_TEST_S3_PID and
#                         remove SOUQ_TEST_S3_DIR
#
# versitygw is installed on first use with go install (through the Go module
# proxy) into ${XDG_CACHE_HOME:-$HOME/.cache}/souq-ci/, one directory per
# version. The script creates the bucket (with curl's SigV4 signing). Only the export
# lines go to stdout; progress and errors go to stderr.
#
# Versity keeps an object's ETag in an extended attribute, and decides
# If-None-Match: * from it: the data directory's file system must store
# user xattrs (ext4, xfs, btrfs; tmpfs from Linux 6.6), and the server must
# not run with --nometa, or it accepts the overwrites that the archive's
# create-only writes rely on being refused (TestCheckCreateOnly then fails).
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
bucket=souq-test
region=us-east-1
access_key=souq-ci
secret_key=souq-ci-secret # a throwaway server's, on loopback only

log() { echo "s3.sh: $*" >&2; }
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

stop() {
  local pid="${SOUQ_TEST_S3_PID:-}" dir="${SOUQ_TEST_S3_DIR:-}"
  ci_stop "$pid" versitygw
  case "$dir" in
    */souq-s3.*) rm -rf "$dir" ;;
  esac
}

if [ "${1:-start}" = stop ]; then
  stop
  exit 0
elif [ "${1:-start}" != start ]; then
  echo "usage: $0 [start|stop]" >&2; exit 2
fi

bin=$(ci_install versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw)

# in_use PORT: whether something accepts connections on 127.0.0.1:PORT.
in_use() {
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  exec 3>&-
}

# listening PID PORT: whether process PID holds the listening socket of
# 127.0.0.1:PORT (so that what answers there is it, not a process that
# took the port first).
listening() {
  local inodes
  inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
  [ -n "$inodes" ] || return 1
  awk -v port="$(printf ':%04X' "$2")" -v inodes="$inodes" '
    BEGIN { n = split(inodes, a, "\n"); for (i = 1; i <= n; i++) ours[a[i]] = 1 }
    $2 == "0100007F" port && $4 == "0A" && ($10 in ours) { found = 1 }
    END { exit !found }' /proc/net/tcp
}

# answers PORT: whether an HTTP server answers on 127.0.0.1:PORT (any
# status: versitygw refuses unsigned requests with 403).
answers() {
  local line=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 || true
  IFS= read -r -t 2 line <&3 || true
  exec 3>&-
  [[ $line == HTTP/1.* ]]
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/souq-s3.XXXXXX")
mkdir "$dir/data"
pid=""
started=no
handed_over=no # the export lines are printed: the caller stops the server
cleanup() {
  if [ "$handed_over" = no ]; then
    SOUQ_TEST_S3_PID="$pid" SOUQ_TEST_S3_DIR="$dir" stop
  fi
}
trap cleanup EXIT

# Start on a random free port; try another when the port is taken between
# the check and the bind.
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  if in_use "$port"; then
    continue
  fi
  ROOT_ACCESS_KEY_ID="$access_key" ROOT_SECRET_ACCESS_KEY="$secret_key" \
    "$bin" --port "127.0.0.1:$port" --region "$region" --quiet posix "$dir/data" \
    >"$dir/versitygw.log" 2>&1 </dev/null &
  pid=$!
  deadline=$((SECONDS + 30))
  until listening "$pid" "$port" && answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      break # exited: the port was taken, or worse (the log says)
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "versitygw did not answer on 127.0.0.1:$port within 30 s; its log:"; cat "$dir/versitygw.log" >&2; exit 1
    fi
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    started=yes
    break
  fi
  if ! grep -q 'address already in use' "$dir/versitygw.log"; then
    log "versitygw exited at start; its log:"; cat "$dir/versitygw.log" >&2; exit 1
  fi
  log "port $port was taken (attempt $attempt); trying another"
done
if [ "$started" = no ]; then
  log "found no free port for versitygw"; exit 1
fi
log "versitygw $VERSITYGW_VERSION (pid $pid) serves 127.0.0.1:$port from $dir/data"

# The bucket, so that every test (and souq serve --archive s3://…) finds it.
empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
if ! curl -fsS -X PUT --aws-sigv4 "aws:amz:$region:s3" --user "$access_key:$secret_key" \
  -H "x-amz-content-sha256: $empty_sha256" "http://127.0.0.1:$port/$bucket" >/dev/null; then
  log "could not create bucket $bucket; the server's log:"; cat "$dir/versitygw.log" >&2; exit 1
fi

printf 'export %s=%q\n' \
  SOUQ_TEST_S3_URL "s3://$bucket?region=$region&endpoint=http://127.0.0.1:$port&use_path_style=true" \
  AWS_ACCESS_KEY_ID "$access_key" \
  AWS_SECRET_ACCESS_KEY "$secret_key" \
  AWS_REGION "$region" \
  SOUQ_TEST_S3_PID "$pid" \
  SOUQ_TEST_S3_DIR "$dir"
handed_over=yes
