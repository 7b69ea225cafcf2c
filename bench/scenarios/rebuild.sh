# bench/run rebuild (sourced by bench/run, with bench/lib.sh).

rebuild() {
  echo "== the index as the cache grows: rebuild at start, first hit during it, memory per entry"
  upstream=off
  local empty_rss=()
  for round in 1 2 3; do
    start_goedge rebuild "$(scratch_dir cache-empty)"
    wait_for_line "$out/rebuild.log" "cache loaded"
    empty_rss+=("$(tree_memory "$goedge_pid" | cut -d' ' -f1)")
    stop "$goedge_pid"
  done
  local entries
  for entries in 100000 1000000; do
    local cache=$out/cache-$entries
    # Made once and kept: a million files take minutes to write.
    if [ ! -e "$cache.made" ]; then
      rm -rf "$cache"
      python3 bench/make-cache.py "$cache" "$entries"
      touch "$cache.made"
    fi
    local loaded_ms=() first_hit_ms=() loaded_rss=()
    for round in 1 2 3; do
      start_goedge rebuild "$cache"
      # The first hit while the index is still loading.
      first_hit_ms+=("$(curl -s -o /dev/null -w '%{time_total}' "$goedge_url/example.com/org1/module1/@v/v1.1.0.info" \
        | awk '{printf "%.1f", $1 * 1000}')")
      wait_for_line "$out/rebuild.log" "cache loaded"
      loaded_ms+=("$(grep "cache loaded" "$out/rebuild.log" | sed -E 's/.* ms=([0-9]+).*/\1/')")
      loaded_rss+=("$(tree_memory "$goedge_pid" | cut -d' ' -f1)")
      stop "$goedge_pid"
    done
    python3 - "$entries" "${empty_rss[*]}" "${loaded_rss[*]}" "${loaded_ms[*]}" "${first_hit_ms[*]}" <<'PY'
import statistics, sys
entries = int(sys.argv[1])
empty, loaded, ms, first = ([float(x) for x in a.split()] for a in sys.argv[2:6])
per_entry = (statistics.median(loaded) - statistics.median(empty)) * 1024 / entries
print(f"  {entries:>9,} entries: indexed in median {statistics.median(ms):.0f} ms  runs {[int(x) for x in ms]}; "
      f"first hit during it {statistics.median(first):.1f} ms  runs {first}")
print(f"  {'':>9}  RSS loaded {statistics.median(loaded) / 1024:.1f} MiB against {statistics.median(empty) / 1024:.1f} MiB empty: "
      f"{per_entry:.0f} bytes per entry (target <= 256: {'met' if per_entry <= 256 else 'NOT MET'})")
PY
  done
}
