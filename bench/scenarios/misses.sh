# bench/run misses (sourced by bench/run, with bench/lib.sh).

misses() {
  echo "== 64 different cold misses at once (zips of 50 KB to 1 MB), upstream answering each request after 30 ms"
  start_fixture sizes:64 30ms
  local paths=$out/misses-paths.txt expected received nginx_ms=() goedge_ms=() requests=()
  for i in $(seq -f %03g 0 63); do echo "/example.com/sized/m$i/@v/v1.0.0.zip"; done >"$paths"
  expected=$(scratch_dir misses-expected)
  fetch_at_once_ms "$paths" "$upstream" "$expected" >/dev/null
  for round in $(seq "${BENCH_ROUNDS:-5}"); do
    start_nginx_cache misses
    received=$(scratch_dir misses-nginx)
    nginx_ms+=("$(fetch_at_once_ms "$paths" "$nginx_url" "$received")")
    diff -rq -x curl.config "$expected" "$received" >/dev/null || { echo "nginx answered other bytes" >&2; exit 1; }
    stop "$nginx_pid"
    start_goedge misses "$(scratch_dir cache-misses)" --log-level notice ${BENCH_GOEDGE_ARGS:-}
    curl -sf "$upstream/_fixture/reset"
    received=$(scratch_dir misses-goedge)
    goedge_ms+=("$(fetch_at_once_ms "$paths" "$goedge_url" "$received")")
    diff -rq -x curl.config "$expected" "$received" >/dev/null || { echo "goedge answered other bytes" >&2; exit 1; }
    requests+=("$(curl -sf "$upstream/_fixture/stats" | python3 -c 'import json,sys; print(sum(n for p, n in json.load(sys.stdin).items() if "/@v/" in p))')")
    stop "$goedge_pid"
  done
  python3 - "${nginx_ms[*]}" "${goedge_ms[*]}" "${requests[*]}" <<'PY'
import statistics, sys
nginx, goedge, requests = ([int(x) for x in a.split()] for a in sys.argv[1:4])
ratio = statistics.median(g / n for n, g in zip(nginx, goedge))
print(f"  nginx proxy_cache, last answer  median {statistics.median(nginx):>6} ms  runs {nginx}")
print(f"  goedge, last answer             median {statistics.median(goedge):>6} ms  runs {goedge}")
print(f"  goedge / nginx {ratio:.2f} (target <= 1.00: {'met' if ratio <= 1.0 else 'NOT MET'}); goedge's upstream requests per round {requests}")
PY
  herd
}
