# bench/run activation (sourced by bench/run, with bench/lib.sh).

activation() {
  echo "== socket activation: first connection to first response byte, 10,000 cache entries"
  rm -rf "$out/cache-10k"
  python3 bench/make-cache.py "$out/cache-10k" 10000
  local port times=()
  port=$(free_port)
  for round in $(seq 10); do
    systemd-socket-activate -l "127.0.0.1:$port" "$goedge" serve --upstream off --cache-dir "$out/cache-10k" \
      --idle-timeout 500ms --log-level notice >"$out/activation.log" 2>&1 &
    local activator=$!
    wait_for_line "$out/activation.log" "Listening on"
    # The handshake completes at once (the socket is systemd's); the answer waits for goedge to start.
    times+=("$(curl -s -o /dev/null -w '%{time_connect} %{time_starttransfer}' \
      "http://127.0.0.1:$port/example.com/org0/module0/@v/v1.0.0.info" | awk '{printf "%.1f", ($2 - $1) * 1000}')")
    wait "$activator" || true
  done
  # The floor: the same measurement of a trivial socket-activated C program.
  local floor=() floor_binary=$out/activation-floor
  cc -O2 -o "$floor_binary" bench/activation-floor.c
  for round in $(seq 10); do
    systemd-socket-activate -l "127.0.0.1:$port" "$floor_binary" >"$out/activation-floor.log" 2>&1 &
    local activator=$!
    wait_for_line "$out/activation-floor.log" "Listening on"
    floor+=("$(curl -s -o /dev/null -w '%{time_connect} %{time_starttransfer}' "http://127.0.0.1:$port/" \
      | awk '{printf "%.1f", ($2 - $1) * 1000}')")
    wait "$activator" || true
  done
  python3 - "${times[*]}" "${floor[*]}" <<'PY'
import statistics, sys
times, floor = ([float(x) for x in a.split()] for a in sys.argv[1:3])
median = statistics.median(times)
print(f"  first byte after connect: median {median:.1f} ms, worst {max(times):.1f} ms over {len(times)} starts "
      f"(target <= 20 ms: {'met' if median <= 20 else 'NOT MET'})")
print(f"  runs (ms): {times}")
print(f"  the floor, a trivial socket-activated C program: median {statistics.median(floor):.1f} ms; "
      f"goedge / floor {median / statistics.median(floor):.1f}")
PY
}
