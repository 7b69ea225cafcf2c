# bench/run instructions (sourced by bench/run, with bench/lib.sh).

instructions() {
  echo "== user-space instructions per hot request (valgrind callgrind)"
  command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  [ -d "$out/cache-hot" ] && [ -s "$out/paths.txt" ] \
    || { echo "run bench/run hot first: it fills the cache these requests hit" >&2; exit 1; }
  (cd bench/fixed-requests && GO111MODULE=off GOFLAGS= go build -o "$out/fixed-requests" .)
  # Debian 12's valgrind cannot read Swift's DWARF 5; the symbol table is enough.
  strip --strip-debug -o "$out/goedge-symbols" "$goedge"
  instructions_for() { # requests level: total instructions of an agent's life serving them
    local port log=$out/callgrind-$1-$2.log
    port=$(free_port)
    rm -f "$out"/callgrind.out.*
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p" "$out/goedge-symbols" serve \
      --listen "127.0.0.1:$port" --upstream off --cache-dir "$out/cache-hot" --no-read-ahead --log-level "$2" \
      >"$log" 2>&1 &
    local pid=$!
    wait_for_line "$log" listening
    "$out/fixed-requests" "127.0.0.1:$port" "$out/paths.txt" "$1" 8
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    awk '/^summary:/ {print $2}' "$out"/callgrind.out.*
  }
  local quiet_small quiet_large logged_small logged_large
  quiet_small=$(instructions_for 9000 notice)
  quiet_large=$(instructions_for 27000 notice)
  logged_small=$(instructions_for 9000 info)
  logged_large=$(instructions_for 27000 info)
  # The difference between 27,000 and 9,000 requests leaves start-up and shutdown out.
  echo "  per request, the 450-file mix: $(((quiet_large - quiet_small) / 18000)) without the request log," \
    "$(((logged_large - logged_small) / 18000)) with it"
}
