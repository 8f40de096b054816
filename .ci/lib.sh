# Shared by the scripts that start a test server for .ci/run (s3.sh,
# stripe.sh): installing a Go tool once per version, and stopping a server
# by its pid. Source it after defining log().

# ci_install NAME VERSION PACKAGE: print the path of NAME, installed on
# first use with go install PACKAGE@VERSION (through the Go module proxy)
# into ${XDG_CACHE_HOME:-$HOME/.cache}/souq-ci/NAME-VERSION/.
ci_install() {
  local name=$1 version=$2 pkg=$3
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/souq-ci/$name-$version"
  if [ ! -x "$dir/$name" ]; then
    log "installing $name $version into $dir"
    mkdir -p "$dir"
    GOBIN="$dir" go install "$pkg@$version" >&2
  fi
  echo "$dir/$name"
}

# ci_runs PID NAME: whether process PID runs the program NAME.
ci_runs() {
  local exe
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  exe=$(tr '\0' '\n' <"/proc/$1/cmdline" | head -n 1)
  [ "${exe##*/}" = "$2" ]
}

# ci_stop PID NAME: stop process PID if it runs NAME (a pid reused by
# another program is left alone): SIGTERM, then SIGKILL after 10 s.
ci_stop() {
  local pid=$1 name=$2
  if ! ci_runs "$pid" "$name"; then
    return 0
  fi
  kill "$pid"
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name ($pid) did not stop in 10 s: killing it"; kill -9 "$pid" 2>/dev/null || true; break
    fi
    sleep 0.1
  done
}
