# bench/run soak (sourced by bench/run, with bench/lib.sh).

soak() {
  local seconds=${BENCH_SOAK_SECONDS:-300}
  echo "== soak: 500 keep-alive connections for ${seconds}s, hits and misses (an 8 MiB cache over a larger corpus),"
  echo "   the upstream failing (503), cutting bodies or stalling on one request in 25; beside them 10 clients that"
  echo "   never read their answers, 10 that read a kilobyte a second, and go mod download in a loop"
  (cd Tests/Fixtures/load-client && GO111MODULE=off GOFLAGS= go build -o "$out/load-client" .)
  # Transient failures only (503s, cut bodies, slow answers): what a flaky upstream does, and what must not fail a build.
  "$out/goproxy-fixture" -catalog corpus:150 -delay 5ms -misbehave 25 -transient >"$out/fixture.log" 2>&1 &
  fixture_pid=$!
  pids+=("$fixture_pid")
  wait_for_line "$out/fixture.log" listening
  upstream=$(head -1 "$out/fixture.log" | cut -d' ' -f2)
  rm -rf "$out/cache-soak"
  start_goedge goedge-soak "$out/cache-soak" --log-level notice --max-cache-size 8MiB --stall-timeout 5s
  "$out/load-client" -target "$goedge_url" -reference "$upstream" -reference-prefix /_clean -lenient \
    -clients 500 -duration "${seconds}s" -timeout 60s -deadline "$((seconds + 120))s" >"$out/soak.json" &
  local client=$!
  local port=${goedge_url##*:}
  python3 bench/stubborn-clients.py "$port" "$seconds" /example.com/corpus/m000/@v/v1.0.0.zip \
    /example.com/corpus/m001/@v/v1.0.0.mod /example.com/corpus/m002/@v/list >"$out/stubborn.txt" &
  local stubborn=$!
  # Builds: go mod download of ten modules with an empty module cache, again and again.
  local build_folder
  build_folder=$(scratch_dir soak-build)
  {
    printf 'module example.org/soak\n\ngo 1.17\n\nrequire (\n'
    for i in $(seq -f %03g 0 9); do printf '\texample.com/corpus/m%s v1.0.0\n' "$i"; done
    printf ')\n'
  } >"$build_folder/go.mod"
  (
    builds=0 failed=0
    local_end=$(($(date +%s) + seconds))
    while [ "$(date +%s)" -lt "$local_end" ]; do
      gopath=$(scratch_dir soak-gopath)
      if (cd "$build_folder" && go_env "$goedge_url" "$gopath" go mod download >>"$out/soak-builds.log" 2>&1); then
        builds=$((builds + 1))
      else
        failed=$((failed + 1))
      fi
      chmod -R u+w "$gopath" && rm -rf "$gopath"
    done
    echo "$builds $failed" >"$out/soak-builds.txt"
  ) &
  local building=$!
  sleep 60
  local rss_first
  rss_first=$(awk '/VmRSS/ {print $2}' "/proc/$goedge_pid/status")
  wait "$client" || true
  wait "$stubborn" || true
  wait "$building" || true
  local alive=yes rss_end=0
  if kill -0 "$goedge_pid" 2>/dev/null; then
    rss_end=$(awk '/VmRSS/ {print $2}' "/proc/$goedge_pid/status")
  else
    alive=no
  fi
  stop "$goedge_pid"
  python3 - "$out/soak.json" "$rss_first" "$rss_end" "$alive" "$seconds" "$out/soak-builds.txt" "$out/stubborn.txt" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
first, end, alive, seconds = int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024, sys.argv[4] == "yes", sys.argv[5]
builds, failed = (int(x) for x in open(sys.argv[6]).read().split())
closed = open(sys.argv[7]).read().strip() or "?"
print(f"  go mod download: {builds} builds, {failed} failed (target 0: {'met' if failed == 0 else 'NOT MET'})")
print(f"  clients that do not read: their connections closed by the agent {closed} times")
growth = (end - first) / first if first else 0
print(f"  {s['requests']} requests in {s['seconds']:.0f}s, statuses {s['statuses']}")
print(f"  unanswered {s['unanswered']} (target 0: {'met' if s['unanswered'] == 0 else 'NOT MET'}), "
      f"wrong bytes {s['mismatched']} (target 0: {'met' if s['mismatched'] == 0 else 'NOT MET'}), "
      f"agent {'alive' if alive else 'CRASHED'} (target alive: {'met' if alive else 'NOT MET'})")
print(f"  RSS after 1 min {first:.1f} MiB, at the end {end:.1f} MiB: {growth * 100:+.1f}% "
      f"(target within 10%: {'met' if alive and abs(growth) <= 0.10 else 'NOT MET'})")
for failure in (s.get('failures') or [])[:5]:
    print("   ", failure)
PY
}
