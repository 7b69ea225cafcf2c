# bench/run readahead (sourced by bench/run, with bench/lib.sh).

# With Debian's go command (Go 1.19) and a current one (Go 1.27): they load
# and download in their own order.
readahead() {
  echo "== read-ahead: cold go mod download all of a 150-module graph mixing unpruned and pruned modules at two versions each"
  echo "   (bench/lib.sh's mixed:150, with exclude and replace in the main module), upstream answering each request after 30 ms"
  make_workspace mixed:150
  start_fixture mixed:150 30ms
  go_bin=
  readahead_with "Go 1.19 (Debian's)"
  go_bin=$(current_go_bin)
  readahead_with "Go 1.27"
  go_bin=
}

readahead_with() { # label: the measurements with the go command go_bin names
  echo "  -- $1"
  local nginx_ms=() goedge_ms=() plain_ms=() nginx_requests=() goedge_requests=()
  upstream_requests() { curl -sf "$upstream/_fixture/stats" | python3 -c 'import json,sys; print(sum(n for p, n in json.load(sys.stdin).items() if "/@v/" in p or p.endswith("@latest")))'; }
  for round in $(seq "${BENCH_ROUNDS:-3}"); do
    start_nginx_cache readahead
    curl -sf "$upstream/_fixture/reset"
    nginx_ms+=("$(download_ms "$nginx_url")")
    # nginx passes the go command's own requests: what the go command asks for.
    nginx_requests+=("$(upstream_requests)")
    stop "$nginx_pid"
    start_goedge readahead "$(scratch_dir cache-readahead)" --log-level notice
    curl -sf "$upstream/_fixture/reset"
    goedge_ms+=("$(download_ms "$goedge_url")")
    sleep 1  # read-ahead still under way is counted too
    goedge_requests+=("$(upstream_requests)")
    stop "$goedge_pid"
    start_goedge readahead-off "$(scratch_dir cache-readahead)" --log-level notice --no-read-ahead
    plain_ms+=("$(download_ms "$goedge_url")")
    stop "$goedge_pid"
  done
  # Warm: the same download from a goedge that has everything, against
  # GOPROXY=file:// over the module cache's download folder (the floor).
  local warm_ms=() file_ms=() filled
  start_goedge readahead-warm "$(scratch_dir cache-readahead)" --log-level notice
  filled=$(scratch_dir gopath-filled)
  (cd "$workspace" && go_env "$goedge_url" "$filled" go mod download all 2>"$out/download.log") \
    || { echo "go mod download all through goedge failed:" >&2; cat "$out/download.log" >&2; exit 1; }
  # And nginx serving that folder as it is: what any HTTP server costs this go command.
  start_nginx_static readahead-static "$filled/mod/cache/download"
  local static_ms=()
  local cpu_before cpu_after
  cpu_before=$(cpu_ms "$goedge_pid")
  for round in $(seq "${BENCH_ROUNDS:-3}"); do
    warm_ms+=("$(download_ms "$goedge_url")")
    file_ms+=("$(download_ms "file://$filled/mod/cache/download")")
    static_ms+=("$(download_ms "$nginx_url")")
  done
  cpu_after=$(cpu_ms "$goedge_pid")
  stop "$goedge_pid"
  stop "$nginx_pid"
  local counts
  counts=$(grep -o 'files_read_ahead=[0-9]* read_ahead_used=[0-9]*' "$out/readahead.log" || true)
  python3 - "${nginx_ms[*]}" "${goedge_ms[*]}" "${plain_ms[*]}" "$counts" "${nginx_requests[*]}" "${goedge_requests[*]}" \
    "${warm_ms[*]}" "${file_ms[*]}" "$(( (cpu_after - cpu_before) / ${BENCH_ROUNDS:-3} ))" "${static_ms[*]}" <<'PY'
import statistics, sys
runs = lambda text: [int(x) for x in text.split()]
nginx, goedge, plain = runs(sys.argv[1]), runs(sys.argv[2]), runs(sys.argv[3])
asked, fetched = runs(sys.argv[5]), runs(sys.argv[6])
ratio = statistics.median(g / n for n, g in zip(nginx, goedge))
extra = statistics.median(f / a - 1 for a, f in zip(asked, fetched))
print(f"  nginx proxy_cache, cold      median {statistics.median(nginx):>6} ms  runs {nginx}")
print(f"  goedge, cold                 median {statistics.median(goedge):>6} ms  runs {goedge}")
print(f"  goedge --no-read-ahead, cold median {statistics.median(plain):>6} ms  runs {plain}")
counts = dict(item.split("=") for item in sys.argv[4].split())
never = int(counts.get("files_read_ahead", 0)) - int(counts.get("read_ahead_used", 0))
print(f"  goedge / nginx {ratio:.2f} (target <= 0.30: {'met' if ratio <= 0.3 else 'NOT MET'}); last goedge run: {sys.argv[4]}, "
      f"{never} read ahead and never asked for")
print(f"  upstream requests: the go command's own (through nginx) {asked}, goedge's {fetched}: "
      f"{extra * 100:+.0f}% (target <= +5%: {'met' if extra <= 0.05 else 'NOT MET'})")
warm, floor = runs(sys.argv[7]), runs(sys.argv[8])
warm_ratio = statistics.median(w / f for w, f in zip(warm, floor))
print(f"  warm goedge                  median {statistics.median(warm):>6} ms  runs {warm}")
print(f"  GOPROXY=file://              median {statistics.median(floor):>6} ms  runs {floor}")
static = runs(sys.argv[10])
print(f"  nginx static, same files     median {statistics.median(static):>6} ms  runs {static}: "
      f"{statistics.median(s / f for s, f in zip(static, floor)):.2f}x file:// (the go command's own cost of HTTP)")
print(f"  warm goedge / file:// {warm_ratio:.2f} (target <= 1.05: {'met' if warm_ratio <= 1.05 else 'NOT MET'}); "
      f"goedge's own CPU per warm download {sys.argv[9]} ms (the rest is the go command's)")
PY
}
