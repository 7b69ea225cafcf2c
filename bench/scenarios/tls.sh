# bench/run tls (sourced by bench/run, with bench/lib.sh); bench/run hot runs it too.
#
# Hits over TLS: goedge against nginx serving the same files with the same
# certificate, TLS 1.3 and the same cipher (AES-128-GCM: BoringSSL's choice,
# which nginx is told to make too), 32 keep-alive connections, server on CPU 0
# and wrk on CPU 1. Two sets: the hot mix (150 modules' .info, .mod and small
# .zip) and a mixed set with larger zips (40 modules whose zips grow from
# 50 KB to 1 MB, with their .info and .mod). Requests per second, and the
# latency wrk sees at the 50th and 99th percentiles.

tls() {
  echo "== hits over TLS: goedge against nginx (ssl) serving the same files"
  local dir=$out/tls
  rm -rf "$dir"
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  local set
  for set in hot sizes; do
    local catalog=graph:150 modules
    [ $set = sizes ] && catalog=sizes:40
    start_fixture "$catalog"
    : >"$dir/$set-paths.txt"
    if [ $set = hot ]; then
      modules=$(seq -f 'example.com/graph/m%03g' 0 149)
    else
      modules=$(seq -f 'example.com/sized/m%03g' 0 39)
    fi
    for module in $modules; do
      for ext in info mod zip; do echo "/$module/@v/v1.0.0.$ext" >>"$dir/$set-paths.txt"; done
    done
    rm -rf "$dir/www-$set" "$dir/cache-$set"
    mirror_paths "$dir/$set-paths.txt" "$dir/www-$set"
    local nginx_port goedge_port
    nginx_port=$(free_port)
    cat >"$dir/nginx-$set.conf" <<NGINX
worker_processes 1;
daemon off;
user $(id -un) $(id -gn);
pid $dir/nginx-$set.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  types { application/json info; text/plain mod; application/zip zip; }
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    root $dir/www-$set;
  }
}
NGINX
    taskset -c 0 nginx -c "$dir/nginx-$set.conf" &
    local nginx_master=$!
    pids+=("$nginx_master")
    goedge_port=$(free_port)
    taskset -c 0 "$goedge" serve --listen "127.0.0.1:$goedge_port" --upstream "$upstream" --cache-dir "$dir/cache-$set" \
      --tls-certificate "$dir/cert.pem" --tls-key "$dir/key.pem" --log-level notice >"$dir/goedge-$set.log" 2>&1 &
    local goedge_tls=$!
    pids+=("$goedge_tls")
    wait_for_line "$dir/goedge-$set.log" listening
    sleep 0.3
    local path
    # Fill goedge's cache, and check both serve every file byte for byte.
    for path in $(cat "$dir/$set-paths.txt"); do
      cmp -s <(curl -sfk "https://127.0.0.1:$nginx_port$path") <(curl -sfk "https://127.0.0.1:$goedge_port$path") \
        || { echo "nginx and goedge differ over TLS on $path" >&2; exit 1; }
    done
    local round nginx_runs=() goedge_runs=()
    for round in $(seq "${BENCH_ROUNDS:-5}"); do
      nginx_runs+=("$(tls_run "https://127.0.0.1:$nginx_port" "$dir/$set-paths.txt")")
      goedge_runs+=("$(tls_run "https://127.0.0.1:$goedge_port" "$dir/$set-paths.txt")")
    done
    stop "$goedge_tls"
    stop "$nginx_master"
    stop "$fixture_pid"
    python3 - "$set" "${nginx_runs[*]}" "${goedge_runs[*]}" <<'PY'
import statistics, sys
name = sys.argv[1]
parse = lambda text: [tuple(float(v) for v in run.split(",")) for run in text.split()]
nginx, goedge = parse(sys.argv[2]), parse(sys.argv[3])
ratio = statistics.median(g[0] / n[0] for n, g in zip(nginx, goedge))
label = {"hot": "the hot mix (150 modules, small zips)", "sizes": "zips of 50 KB to 1 MB (40 modules)"}[name]
med = lambda runs, i: statistics.median(r[i] for r in runs)
target = "target >= 1.00: " + ("met" if ratio >= 1.0 else "NOT MET")
print(f"  {label}: requests/s nginx {med(nginx, 0):.0f}, goedge {med(goedge, 0):.0f}, ratio {ratio:.2f} ({target})")
print(f"    latency p50 nginx {med(nginx, 1):.1f} ms, goedge {med(goedge, 1):.1f} ms; "
      f"p99 nginx {med(nginx, 2):.1f} ms, goedge {med(goedge, 2):.1f} ms")
PY
  done
}

# One wrk run over TLS: "requests/s,p50 ms,p99 ms".
tls_run() { # url paths-file
  taskset -c 1 env BENCH_PATHS="$2" wrk -t1 -c32 -d"${duration}s" --latency -s bench/paths.lua "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = int($2) }
    END { printf "%d,%.2f,%.2f\n", rps, p50, p99 }'
}
