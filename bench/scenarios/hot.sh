# bench/run hot (sourced by bench/run, with bench/lib.sh).

hot() {
  echo "== hot cache: goedge against nginx serving the same files"
  start_fixture graph:150
  rm -rf "$out/cache-hot" "$out/www"
  # The mix a go build asks for: .info, .mod and .zip of 150 modules.
  : >"$out/paths.txt"
  for i in $(seq -f %03g 0 149); do
    for ext in info mod zip; do echo "/example.com/graph/m$i/@v/v1.0.0.$ext" >>"$out/paths.txt"; done
  done
  mirror_paths "$out/paths.txt" "$out/www"
  local nginx_port nginx_logged_port
  nginx_port=$(free_port)
  nginx_logged_port=$(free_port)
  for variant in plain logged; do
    local port=$nginx_port log="access_log off;"
    [ $variant = logged ] && port=$nginx_logged_port log="access_log $out/nginx-access.log;"
    cat >"$out/nginx-$variant.conf" <<NGINX
worker_processes 2;
daemon off;
# The files live in the caller's tree, which nginx's default user may not read.
user $(id -un) $(id -gn);
pid $out/nginx-$variant.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
http {
  $log
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/json info; text/plain mod; application/zip zip; }
  server { listen 127.0.0.1:$port; root $out/www; }
}
NGINX
    taskset -c 0 nginx -c "$out/nginx-$variant.conf" &
    pids+=($!)
  done
  sleep 0.5

  # goedge with its per-request log line off, like nginx's access_log off; then both with them on.
  start_goedge goedge-hot "$out/cache-hot" --log-level notice
  local memory_started
  memory_started=$(tree_memory "$goedge_pid")
  for path in $(cat "$out/paths.txt"); do curl -sf -o /dev/null "$goedge_url$path"; done
  # Both must serve every file, byte for byte, or the comparison means nothing.
  for path in $(cat "$out/paths.txt"); do
    cmp -s <(curl -sf "http://127.0.0.1:$nginx_port$path") <(curl -sf "$goedge_url$path") \
      || { echo "nginx and goedge differ on $path" >&2; exit 1; }
  done
  local nginx_rps=() goedge_rps=()
  for round in $(seq "${BENCH_ROUNDS:-7}"); do
    nginx_rps+=("$(rps "http://127.0.0.1:$nginx_port")")
    goedge_rps+=("$(rps "$goedge_url")")
  done
  local rss_kib memory_hot memory_idle memory_nginx_cache
  rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$goedge_pid/status")
  memory_hot=$(tree_memory "$goedge_pid")
  # An agent that stays up between builds: the same, once it has been quiet a while.
  sleep 16
  memory_idle=$(tree_memory "$goedge_pid")
  kill "$goedge_pid"
  wait "$goedge_pid" 2>/dev/null || true
  # The reference for memory: nginx proxy_cache (what goedge is: a caching
  # proxy), its master, workers and cache manager, after the same hot run.
  start_nginx_cache hot
  for path in $(cat "$out/paths.txt"); do curl -sf -o /dev/null "$nginx_url$path"; done
  rps "$nginx_url" >/dev/null
  memory_nginx_cache=$(tree_memory "$nginx_pid")
  stop "$nginx_pid"

  start_goedge goedge-hot-logging "$out/cache-hot" --log-level info
  local nginx_logged_rps=() goedge_logged_rps=()
  for round in $(seq "${BENCH_ROUNDS:-7}"); do
    nginx_logged_rps+=("$(rps "http://127.0.0.1:$nginx_logged_port")")
    goedge_logged_rps+=("$(rps "$goedge_url")")
  done
  kill "$goedge_pid"
  wait "$goedge_pid" 2>/dev/null || true

  python3 - "${nginx_rps[*]}" "${goedge_rps[*]}" "$rss_kib" "${nginx_logged_rps[*]}" "${goedge_logged_rps[*]}" \
    "$memory_started" "$memory_hot" "$memory_nginx_cache" "$memory_idle" <<'PY'
import statistics, sys
runs = lambda text: [int(x) for x in text.split()]
nginx, goedge, rss_mib = runs(sys.argv[1]), runs(sys.argv[2]), int(sys.argv[3]) / 1024
nginx_logged, goedge_logged = runs(sys.argv[4]), runs(sys.argv[5])
(started_rss, started_pss), (hot_rss, hot_pss), (cache_rss, cache_pss), (idle_rss, idle_pss) = ([int(x) / 1024 for x in a.split()] for a in sys.argv[6:10])
def paired(reference, ours):
    # Adjacent runs share the machine's conditions; their ratio is what noise leaves alone.
    return statistics.median(o / r for r, o in zip(reference, ours))
ratio, logged_ratio = paired(nginx, goedge), paired(nginx_logged, goedge_logged)
print("requests/s of the 450-file mix (150 modules' .info, .mod and .zip), 32 connections,")
print(f"server on CPU 0, wrk on CPU 1, {len(nginx)} alternating runs; ratio = median of adjacent-run ratios")
print(f"  no request log    nginx {statistics.median(nginx):>8.0f}  goedge {statistics.median(goedge):>8.0f}  "
      f"ratio {ratio:.2f}  (target >= 1.10, issue 26: {'met' if ratio >= 1.1 else 'NOT MET'})")
print(f"                    runs nginx {nginx}")
print(f"                    runs goedge {goedge}")
print(f"  one line/request  nginx {statistics.median(nginx_logged):>8.0f}  goedge {statistics.median(goedge_logged):>8.0f}  "
      f"ratio {logged_ratio:.2f}")
print(f"  goedge peak RSS   {rss_mib:.1f} MiB (target < 50 MiB: {'met' if rss_mib < 50 else 'NOT MET'})")
print(f"  memory: goedge after start RSS {started_rss:.1f} MiB, PSS {started_pss:.1f} MiB; after the hot runs "
      f"RSS {hot_rss:.1f} MiB, PSS {hot_pss:.1f} MiB")
print(f"          goedge quiet for 16 s after them RSS {idle_rss:.1f} MiB, PSS {idle_pss:.1f} MiB")
print(f"          nginx proxy_cache (master, workers, cache manager) after the same load RSS {cache_rss:.1f} MiB, PSS {cache_pss:.1f} MiB")
print(f"          goedge RSS / nginx proxy_cache RSS {hot_rss / cache_rss:.2f} (target <= 1.00: {'met' if hot_rss <= cache_rss else 'NOT MET'}); "
      f"goedge PSS {hot_pss:.1f} MiB (target <= 20 MiB: {'met' if hot_pss <= 20 else 'NOT MET'})")
PY
}
