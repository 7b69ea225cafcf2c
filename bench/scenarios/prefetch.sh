# bench/run prefetch (sourced by bench/run, with bench/lib.sh).

# The application twice: at go 1.16, whose go.sum names the go.mod of every
# version in its (unpruned) graph, and at go 1.17 tidied for go 1.17 alone, whose
# graph is pruned and whose go.sum lists only that (as a module at go 1.18 or
# later has it): there the walk must find what go.sum does not list.
prefetch() {
  prefetch_application 1.16
  prefetch_application 1.17
}

prefetch_application() { # go version of the application's go.mod (and of its tidy's -compat)
  local go_version=$1
  echo "== goedge watch: save go.mod and go.sum (an application's 150 modules at go $go_version, 30 ms upstream), prefetch, then the build's download"
  make_workspace app:150 "$go_version" "$go_version"
  start_fixture app:150 30ms
  # What the go command needs: go mod download all, then go build, straight from the upstream.
  curl -sf "$upstream/_fixture/reset"
  (cd "$workspace" && go_env "$upstream" "$(scratch_dir gopath-needed)" sh -c 'go mod download all && go build -o /dev/null .' 2>"$out/needed.log") \
    || { echo "go mod download all / go build against the fixture failed:" >&2; cat "$out/needed.log" >&2; exit 1; }
  curl -sf "$upstream/_fixture/stats" >"$out/needed.json"
  local folder saves=() lasts=() warm=() cold=() watch_pid gopath
  local memory=""
  for round in $(seq "${BENCH_ROUNDS:-5}"); do
    folder=$(scratch_dir watched)
    mkdir -p "$folder/app"
    cp "$workspace/main.go" "$folder/app/"
    start_goedge prefetch "$(scratch_dir cache-prefetch)" --log-level notice
    "$goedge" watch --config /dev/null --agent "$goedge_url" --log-level notice "$folder" >"$out/watch.log" 2>&1 &
    watch_pid=$!
    pids+=("$watch_pid")
    wait_for_line "$out/watch.log" watching
    sleep 0.5
    curl -sf "$upstream/_fixture/reset"
    # Saved by rename, as editors and git do.
    cp "$workspace/go.sum" "$folder/app/.go.sum.tmp" && cp "$workspace/go.mod" "$folder/app/.go.mod.tmp"
    local started
    started=$(now_ms)
    mv "$folder/app/.go.sum.tmp" "$folder/app/go.sum" && mv "$folder/app/.go.mod.tmp" "$folder/app/go.mod"
    for _ in $(seq 6000); do grep -q "prefetched " "$out/watch.log" && break; sleep 0.01; done
    grep -q "prefetched " "$out/watch.log" || { echo "no prefetch within 60 s" >&2; cat "$out/watch.log" >&2; exit 1; }
    saves+=($(($(now_ms) - started)))
    lasts+=($(($(curl -sf "$upstream/_fixture/last-answer") - started)))
    curl -sf "$upstream/_fixture/stats" >"$out/prefetched.json"
    curl -sf "$upstream/_fixture/reset"
    warm+=("$(download_ms "$goedge_url")")
    gopath=$(scratch_dir gopath-build)
    (cd "$workspace" && go_env "$goedge_url" "$gopath" sh -c 'go mod download all && go build -o /dev/null .' 2>"$out/build.log") \
      || { echo "go build through goedge failed:" >&2; cat "$out/build.log" >&2; exit 1; }
    curl -sf "$upstream/_fixture/stats" >"$out/after-prefetch.json"
    sleep 1
    memory=$(python3 - "$watch_pid" <<'PY'
import sys
pid = sys.argv[1]
status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
rollup = dict(l.split(":", 1) for l in open(f"/proc/{pid}/smaps_rollup") if ":" in l and not l.startswith(("0", "5", "7")))
kib = lambda v: int(v.split()[0])
private = kib(rollup["Private_Clean"]) + kib(rollup["Private_Dirty"])
print(f"RSS {kib(status['VmRSS'])/1024:.1f} MiB (anonymous {kib(status['RssAnon'])/1024:.1f}, file {kib(status['RssFile'])/1024:.1f}), "
      f"PSS {kib(rollup['Pss'])/1024:.1f} MiB, private {private/1024:.1f} MiB")
PY
)
    stop "$watch_pid"
    stop "$goedge_pid"
    start_goedge prefetch-cold "$(scratch_dir cache-prefetch)" --log-level notice
    cold+=("$(download_ms "$goedge_url")")
    stop "$goedge_pid"
  done
  grep "prefetched " "$out/watch.log" | sed 's/^/  last round: /'
  # The CI step: goedge prefetch, from its start to its return, against a fresh agent.
  local steps=() step_lasts=()
  for round in $(seq "${BENCH_ROUNDS:-5}"); do
    start_goedge prefetch-step "$(scratch_dir cache-prefetch)" --log-level notice
    curl -sf "$upstream/_fixture/reset"
    local started
    started=$(now_ms)
    "$goedge" prefetch --config /dev/null --agent "$goedge_url" --quiet "$workspace" >"$out/prefetch-step.log" 2>&1 \
      || { echo "goedge prefetch failed:" >&2; cat "$out/prefetch-step.log" >&2; exit 1; }
    steps+=($(($(now_ms) - started)))
    step_lasts+=($(($(curl -sf "$upstream/_fixture/last-answer") - started)))
    stop "$goedge_pid"
  done
  python3 - "${steps[*]}" "${step_lasts[*]}" <<'PY'
import statistics, sys
steps, lasts = ([int(x) for x in a.split()] for a in sys.argv[1:3])
print(f"  goedge prefetch (the CI step), start to return  median {statistics.median(steps):>6} ms  runs {steps}"
      f"  (target <= 2000 ms: {'met' if statistics.median(steps) <= 2000 else 'NOT MET'})")
print(f"  goedge prefetch, start to the last upstream fetch  median {statistics.median(lasts):>6} ms")
PY
  python3 - "${saves[*]}" "${lasts[*]}" "${warm[*]}" "${cold[*]}" "$memory" "$out" <<'PY'
import json, statistics, sys
runs = lambda text: [int(x) for x in text.split()]
saves, lasts, warm, cold = (runs(a) for a in sys.argv[1:5])
out = sys.argv[6]
files = lambda name: {p for p, n in json.load(open(f"{out}/{name}.json")).items() if n > 0 and "/@v/" in p}
needed, prefetched, after = files("needed"), files("prefetched"), files("after-prefetch")
ratio = statistics.median(w / c for w, c in zip(warm, cold))
last = statistics.median(lasts)
print(f"  save to the last upstream fetch       median {last:>6} ms  runs {lasts}  (target <= 1000 ms: {'met' if last <= 1000 else 'NOT MET'})")
print(f"  save to the watcher's 'prefetched'    median {statistics.median(saves):>6} ms  runs {saves}")
print(f"  files prefetched {len(prefetched)}; go mod download all and go build need {len(needed)}, "
      f"of which prefetched {len(needed & prefetched)}")
print(f"  upstream requests of go mod download all and go build after the prefetch: {len(after)} (target 0: {'met' if not after else 'NOT MET'})")
for path in sorted(after)[:5]:
    print("    asked upstream after the prefetch:", path)
unneeded = prefetched - needed
kinds = {}
for path in unneeded:
    kinds.setdefault(path.rsplit(".", 1)[-1], []).append(path)
why = {
    "info": "fetched with each zip, so that go list -m and a version's time are answered here too; go mod download all and go build do not ask for them",
    "mod": "listed in go.sum for the module graph (an older version a requirement names); the go command read it when the go.sum was made, not now",
    "zip": "listed in go.sum with a module hash; the go command does not need its packages for this build",
}
if not unneeded:
    print("  prefetched, not asked for: none (every file prefetched was then asked for)")
for kind, paths in sorted(kinds.items()):
    print(f"  prefetched, not asked for: {len(paths)} .{kind} ({why.get(kind, '')}), e.g. {sorted(paths)[0]}")
print(f"  go mod download all, after prefetch   median {statistics.median(warm):>6} ms  runs {warm}")
print(f"  go mod download all, cold goedge      median {statistics.median(cold):>6} ms  runs {cold}")
print(f"  after prefetch / cold {ratio:.2f}")
print(f"  goedge watch asleep after a prefetch: {sys.argv[5]} (target < 10 MB)")
PY
}
