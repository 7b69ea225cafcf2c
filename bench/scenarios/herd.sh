# bench/run herd (sourced by bench/run, with bench/lib.sh).

# The thundering herd: 64 clients asking at the same moment for one uncached
# zip (the largest, 1 MB), behind the 30 ms upstream (the fixture of misses()).
herd() {
  echo "== the herd: 64 clients asking at once for one uncached 1 MB zip, upstream answering after 30 ms"
  local paths=$out/herd-paths.txt received nginx_ms=() goedge_ms=() nginx_requests=() goedge_requests=()
  for i in $(seq 64); do echo "/example.com/sized/m063/@v/v1.0.0.zip"; done >"$paths"
  upstream_zips() { curl -sf "$upstream/_fixture/stats" | python3 -c 'import json,sys; print(sum(n for p, n in json.load(sys.stdin).items() if p.endswith(".zip")))'; }
  for round in $(seq "${BENCH_ROUNDS:-5}"); do
    start_nginx_cache herd
    curl -sf "$upstream/_fixture/reset"
    received=$(scratch_dir herd-nginx)
    nginx_ms+=("$(fetch_at_once_ms "$paths" "$nginx_url" "$received")")
    nginx_requests+=("$(upstream_zips)")
    stop "$nginx_pid"
    start_goedge herd "$(scratch_dir cache-herd)" --log-level notice ${BENCH_GOEDGE_ARGS:-}
    curl -sf "$upstream/_fixture/reset"
    received=$(scratch_dir herd-goedge)
    goedge_ms+=("$(fetch_at_once_ms "$paths" "$goedge_url" "$received")")
    goedge_requests+=("$(upstream_zips)")
    stop "$goedge_pid"
  done
  python3 - "${nginx_ms[*]}" "${goedge_ms[*]}" "${nginx_requests[*]}" "${goedge_requests[*]}" <<'PY'
import statistics, sys
nginx, goedge, nginx_requests, goedge_requests = ([int(x) for x in a.split()] for a in sys.argv[1:5])
ratio = statistics.median(g / n for n, g in zip(nginx, goedge))
print(f"  nginx proxy_cache (proxy_cache_lock on), last answer  median {statistics.median(nginx):>6} ms  runs {nginx}")
print(f"  goedge, last answer                                  median {statistics.median(goedge):>6} ms  runs {goedge}")
print(f"  goedge / nginx {ratio:.2f}; upstream fetches of the zip per round: nginx {nginx_requests}, "
      f"goedge {goedge_requests} (target 1: {'met' if all(n == 1 for n in goedge_requests) else 'NOT MET'})")
PY
}
