# bench/run fleet (sourced by bench/run, with bench/lib.sh).

# A fleet of ephemeral CI runners simulated on this host: each runner a goedge
# with an empty cache doing `go mod download all` of the 150-module
# application behind the 30 ms upstream; 8 one after another, then 4 at once;
# with a shared Ceph bucket, and without one (each runner alone).
fleet() {
  echo "== fleet: 8 ephemeral runners one after another, then 4 at once, each with an empty cache, behind the 30 ms upstream;"
  echo "   sharing one bucket of a real Ceph cluster, against the same fleet without it"
  make_workspace app:150
  start_fixture app:150 30ms
  local sumdb_key
  sumdb_key=$(sed -n 's/^sumdb //p' "$out/fixture.log")
  local ceph
  ceph=$(scratch_dir ceph)
  scripts/ceph-cluster start "$ceph" >"$out/ceph.txt"
  for pid in $(sed -n 's/^pids=//p' "$out/ceph.txt"); do pids+=("$pid"); done
  local endpoint access secret
  endpoint=$(sed -n 's/^endpoint=//p' "$out/ceph.txt")
  access=$(sed -n 's/^access_key=//p' "$out/ceph.txt")
  secret=$(sed -n 's/^secret_key=//p' "$out/ceph.txt")
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" -u "$access:$secret" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$endpoint/fleet-bench"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$access" "$secret" >"$ceph/credentials"
  local shared_args=(--checksum-database "$sumdb_key" --shared-store s3://fleet-bench/go --shared-store-endpoint "$endpoint"
    --shared-store-credentials-file "$ceph/credentials")

  module_requests() { curl -sf "$upstream/_fixture/stats" | python3 -c 'import json,sys; print(sum(n for p, n in json.load(sys.stdin).items() if "/@v/" in p or p.endswith("@latest")))'; }
  shared_status() { curl -sf "$1/-/api/status" | python3 -c 'import json,sys; s=json.load(sys.stdin).get("sharedStore") or {}; print(s.get("hits",0)+s.get("misses",0)+s.get("errors",0), s.get("waitedMilliseconds",0), s.get("uploadsQueued",0))'; }
  settle_uploads() { # url: waits (at most 60 s) until nothing is queued for the store
    for _ in $(seq 600); do
      [ "$(shared_status "$1" | cut -d' ' -f3)" = 0 ] && return 0
      sleep 0.1
    done
  }

  # One runner: a fresh goedge, one cold download; prints "ms store-requests store-wait-ms".
  runner() { # name [extra args...]
    local name=$1
    shift
    start_goedge "fleet-$name" "$(scratch_dir "cache-fleet-$name")" --log-level notice --checksum-database "$sumdb_key" "$@"
    local ms
    ms=$(download_ms "$goedge_url")
    sleep 1  # read-ahead still under way is counted too
    settle_uploads "$goedge_url"
    local status
    status=$(shared_status "$goedge_url")
    stop "$goedge_pid"
    echo "$ms $(echo "$status" | cut -d' ' -f1-2)"
  }

  local alone=() shared=() alone_requests shared_requests
  curl -sf "$upstream/_fixture/reset"
  for i in $(seq 8); do alone+=("$(runner "alone-$i")"); done
  alone_requests=$(module_requests)
  curl -sf "$upstream/_fixture/reset"
  for i in $(seq 8); do shared+=("$(runner "shared-$i" "${shared_args[@]}")"); done
  shared_requests=$(module_requests)
  local first_requests
  # What one runner alone asks: the fleet's floor.
  first_requests=$((alone_requests / 8))

  # The same later runners with the bucket some milliseconds away (another
  # zone of the region), where this one's gateway is on this host.
  local delay_ms=${BENCH_STORE_DELAY_MS:-10}
  python3 bench/delay-relay.py "${endpoint#http://}" "$delay_ms" >"$out/delay-relay.log" 2>&1 &
  local relay_pid=$!
  pids+=("$relay_pid")
  wait_for_line "$out/delay-relay.log" listening
  local far_args=("${shared_args[@]}") far=()
  far_args[5]=http://127.0.0.1:$(cut -d' ' -f2 "$out/delay-relay.log")
  for i in $(seq 3); do far+=("$(runner "far-$i" "${far_args[@]}")"); done
  stop "$relay_pid"

  # Four at once, on a fresh bucket prefix, with and without the store.
  local at_once_alone at_once_shared
  curl -sf "$upstream/_fixture/reset"
  local pids_now=()
  for i in $(seq 4); do runner "together-alone-$i" >"$out/fleet-together-alone-$i.txt" & pids_now+=($!); done
  for pid in "${pids_now[@]}"; do wait "$pid"; done
  at_once_alone=$(module_requests)
  shared_args[3]=s3://fleet-bench/together
  curl -sf "$upstream/_fixture/reset"
  pids_now=()
  for i in $(seq 4); do runner "together-shared-$i" "${shared_args[@]}" >"$out/fleet-together-shared-$i.txt" & pids_now+=($!); done
  for pid in "${pids_now[@]}"; do wait "$pid"; done
  at_once_shared=$(module_requests)

  # The reference: a warm local goedge (the same download, every file on this host).
  start_goedge fleet-warm "$(scratch_dir cache-fleet-warm)" --log-level notice
  download_ms "$goedge_url" >/dev/null
  local warm=()
  for _ in 1 2 3; do warm+=("$(download_ms "$goedge_url")"); done
  stop "$goedge_pid"

  python3 - "$first_requests" "$alone_requests" "$shared_requests" "$at_once_alone" "$at_once_shared" \
    "$(IFS=,; echo "${alone[*]}")" "$(IFS=,; echo "${shared[*]}")" "$(IFS=,; echo "${warm[*]}")" \
    "$(cat "$out"/fleet-together-shared-*.txt | tr '\n' ',')" "$(cat "$out"/fleet-together-alone-*.txt | tr '\n' ',')" \
    "$(IFS=,; echo "${far[*]}")" "$delay_ms" <<'PY'
import statistics, sys
one, alone_req, shared_req, together_alone, together_shared = (int(x) for x in sys.argv[1:6])
runs = lambda text: [[int(v) for v in item.split()] for item in text.split(",") if item.strip()]
alone, shared, warm = runs(sys.argv[6]), runs(sys.argv[7]), [r[0] for r in runs(sys.argv[8])]
shared_together, alone_together = runs(sys.argv[9]), runs(sys.argv[10])
warm_ms = statistics.median(warm)
print(f"  upstream requests, 8 runners one after another: {alone_req} alone, {shared_req} sharing the bucket; "
      f"one runner asks {one} (target +0 over one run: {'met' if shared_req <= one else 'NOT MET'}, +{shared_req - one})")
print(f"  4 runners at once: {together_alone} alone, {together_shared} sharing (the bucket fills as they go)")
later = shared[1:]
for index, (s, a) in enumerate(zip(shared, alone), start=1):
    print(f"    runner {index}: {s[0]} ms sharing ({s[0] / warm_ms:.2f}x warm local), {a[0]} ms alone; "
          f"store asked {s[1]} times, waited {s[2]} ms")
ratio = statistics.median(r[0] for r in later) / warm_ms
alone_ratio = statistics.median(r[0] for r in later) / statistics.median(r[0] for r in alone[1:])
print(f"  later runners: median {statistics.median(r[0] for r in later):.0f} ms, {ratio:.2f}x a warm local goedge's "
      f"{warm_ms:.0f} ms (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT MET'}), {alone_ratio:.2f}x the same runner alone")
far = runs(sys.argv[11])
far_ms = statistics.median(r[0] for r in far)
print(f"  the bucket {sys.argv[12]} ms away (a relay in front of the gateway), 3 later runners: median {far_ms:.0f} ms, "
      f"{far_ms / warm_ms:.2f}x a warm local goedge's; client waited on the store {statistics.median(r[2] for r in far):.0f} ms in all per runner")
print(f"  at once: sharing {statistics.median(r[0] for r in shared_together):.0f} ms, alone {statistics.median(r[0] for r in alone_together):.0f} ms (medians)")
print(f"  the store's requests per later runner: {statistics.median(r[1] for r in later):.0f}, "
      f"time a client waited on it: {statistics.median(r[2] for r in later):.0f} ms in all per runner")
PY
  scripts/ceph-cluster stop "$ceph"
}
