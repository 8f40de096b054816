#!/usr/bin/env bash
# A mock of Stripe's API for the Stripe provider's tests
# (internal/payment/stripepay): stripe-mock (MIT), which checks requests
# against Stripe's OpenAPI spec and answers with fixtures, on a free loopback
# port.
#
#   eval "$(.ci/stripe.sh)"   start it; prints the export lines the tests read
#   .ci/stripe.sh stop        stop the server named by SOUQ_TEST_STRIPE_PID
#                             (and remove its log)
#
# stripe-mock is installed on first use with go install (through the Go
# module proxy) into ${XDG_CACHE_HOME:-$HOME/.cache}/souq-ci/, one directory
# per version. Only the export lines go to stdout; progress and errors go to
# stderr.
#
# The system chooses the port (-http-addr 127.0.0.1:), and the script reads
# it from stripe-mock's log, so there is no race for it. stripe-mock cannot
# serve HTTP alone on a chosen address: -http-addr leaves its HTTPS listener
# on (on :12112, every interface), and -http-port, which turns HTTPS off,
# listens on every interface. So HTTPS goes to another system-chosen
# loopback port, unused; two servers can run side by side.
set -euo pipefail

STRIPE_MOCK_VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
test_key=sk_test_123 # stripe-mock takes any sk_test_ key

log() { echo "stripe.sh: $*" >&2; }
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

stop() {
  local pid="${SOUQ_TEST_STRIPE_PID:-}" logfile=""
  [ -n "$pid" ] || return 0
  if ! ci_runs "$pid" stripe-mock; then
    log "process $pid is not stripe-mock (or has ended): leaving it"
    return 0
  fi
  logfile=$(readlink "/proc/$pid/fd/1" 2>/dev/null || true)
  ci_stop "$pid" stripe-mock
  case "$logfile" in
    */souq-stripe-mock.*.log) rm -f "$logfile" ;;
  esac
}

if [ "${1:-start}" = stop ]; then
  stop
  exit 0
elif [ "${1:-start}" != start ]; then
  echo "usage: $0 [start|stop]" >&2; exit 2
fi

bin=$(ci_install stripe-mock "$STRIPE_MOCK_VERSION" github.com/stripe/stripe-mock)

logfile=$(mktemp "${TMPDIR:-/tmp}/souq-stripe-mock.XXXXXX.log")
pid=""
handed_over=no # the export lines are printed: the caller stops the server
cleanup() {
  if [ "$handed_over" = no ]; then
    if [ -n "$pid" ]; then SOUQ_TEST_STRIPE_PID="$pid" stop; fi
    rm -f "$logfile"
  fi
}
trap cleanup EXIT

"$bin" -http-addr 127.0.0.1: -https-addr 127.0.0.1: >"$logfile" 2>&1 </dev/null &
pid=$!

# Wait for the port in the log, then for an answer: GET /v1/charges is 200
# with a test key.
port=""
url=""
deadline=$((SECONDS + 30))
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    log "stripe-mock exited at start; its log:"; cat "$logfile" >&2; exit 1
  fi
  if [ -z "$port" ]; then
    port=$(sed -n 's/^Listening for HTTP at address: 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$logfile")
    url="http://127.0.0.1:$port"
  fi
  if [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    -H "Authorization: Bearer $test_key" "$url/v1/charges" || true)" = 200 ]; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "stripe-mock did not answer within 30 s; its log:"; cat "$logfile" >&2; exit 1
  fi
  sleep 0.1
done
log "stripe-mock $STRIPE_MOCK_VERSION (pid $pid) serves $url; its log: $logfile"

printf 'export %s=%q\n' \
  SOUQ_TEST_STRIPE_URL "$url" \
  SOUQ_TEST_STRIPE_PID "$pid"
handed_over=yes
