# Sourced by the .ci scripts: go_test NAME DIR runs `go test -count=1 -v
# ./...` in DIR, prints failures and a count, and exits the script when a
# test failed or none ran (a run that tests nothing must not pass).
go_test() {
  local name=$1 dir=$2 log status passed failed
  log=$(mktemp)
  set +e
  (cd "$dir" && go test -count=1 -v ./...) >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(ok|FAIL|panic)|^\s*--- FAIL|\S+_test\.go:[0-9]+:|no test files' "$log" || true
  passed=$(grep -cE '^\s*--- PASS' "$log" || true)
  failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
  echo "$name: $passed passed, $failed failed"
  if [ "$status" -ne 0 ]; then
    echo "$name failed (exit $status); full log follows"; cat "$log"; rm -f "$log"; exit "$status"
  fi
  rm -f "$log"
  if [ "$passed" -eq 0 ]; then
    echo "$name: no test ran: failing"; exit 1
  fi
}
