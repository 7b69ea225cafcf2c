// The GOPROXY protocol as the fixture serves it, misbehaving on request.
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
)

// example.com/huge v1.0.0, made when first asked for.
var (
	hugeOnce    sync.Once
	hugeVersion *version
)

type server struct {
	catalog  *catalog
	delay    time.Duration
	sumdb    http.Handler
	verifier string
	// The second database, named with a path.
	pathSumdb http.Handler
	gosums    *goSums
	databases []*sumdb.TestServer

	failStatus int64 // when non-zero, every proxy request fails with it
	flaky503   int64 // this many of the next proxy requests answer 503
	flakyCut   int64 // this many of the next zip downloads are cut midway
	misbehave  int   // one request in about this many misbehaves
	transient  bool  // misbehave only as a flaky upstream does (no 500s)
	requestNo  int64
	inFlight   int // proxy requests being answered now (under mu)
	mu         sync.Mutex
	counts     map[string]int
	clients    map[string]bool // remote addresses of connections that asked for proxy paths
	// When the last proxy or checksum database answer was complete (Unix
	// milliseconds): the end of a prefetch, as the upstream sees it.
	lastAnswered int64
}

func (s *server) count(path string) {
	s.mu.Lock()
	s.counts[path]++
	s.mu.Unlock()
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		// Asked to tunnel (an HTTPS_PROXY client): note it and refuse.
		s.count("proxy:CONNECT " + r.Host)
		http.Error(w, "fixture: no tunnels", http.StatusForbidden)
		return
	}
	if r.URL.IsAbs() {
		// A forward-proxy request (an http_proxy client): note it, then
		// answer as if it had been forwarded to the origin.
		s.count("proxy:GET " + r.URL.Host)
	}
	if user, _, ok := r.BasicAuth(); ok {
		s.count("auth:" + user)
	}
	path := r.URL.Path
	if strings.HasPrefix(path, "/_fixture/") {
		s.control(w, r)
		return
	}
	defer func() { atomic.StoreInt64(&s.lastAnswered, time.Now().UnixMilli()) }()
	if strings.HasPrefix(path, "/redir/") {
		// A relative redirect: only a client that resolves it against this
		// server's URL finds the file.
		s.count(strings.TrimPrefix(path, "/"))
		http.Redirect(w, r, "/mod/"+strings.TrimPrefix(path, "/redir/"), http.StatusFound)
		return
	}
	path = strings.TrimPrefix(strings.TrimPrefix(path, "/mod"), "/")
	// /_clean/… is the same answer, never misbehaving: the reference for soak runs.
	clean := strings.HasPrefix(path, "_clean/")
	path = strings.TrimPrefix(path, "_clean/")
	if !clean && s.misbehave > 0 && s.misbehaveNow(w, r) {
		return
	}
	s.count(path)
	s.mu.Lock()
	if !s.clients[r.RemoteAddr] {
		// A connection not seen before (the client's port tells them apart).
		s.clients[r.RemoteAddr] = true
		s.counts["_connections"]++
	}
	// The most proxy requests answered at once since the reset: whether a
	// client's requests reached the upstream together or one after another.
	s.inFlight++
	if s.inFlight > s.counts["_most_at_once"] {
		s.counts["_most_at_once"] = s.inFlight
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if !strings.HasPrefix(path, "sumdb/") && takeOne(&s.flaky503) {
		s.count("flaky:503")
		w.Header().Set("Retry-After", "0")
		http.Error(w, "fixture: overloaded, once", http.StatusServiceUnavailable)
		return
	}
	if status := atomic.LoadInt64(&s.failStatus); status != 0 {
		http.Error(w, "fixture: failing on purpose", int(status))
		return
	}
	for name, db := range map[string]http.Handler{sumdbName: s.sumdb, pathSumdbName: s.pathSumdb} {
		if !strings.HasPrefix(path, "sumdb/"+name+"/") {
			continue
		}
		rest := strings.TrimPrefix(path, "sumdb/"+name)
		if rest == "/supported" {
			w.WriteHeader(http.StatusOK)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		db.ServeHTTP(w, r2)
		return
	}
	if strings.HasPrefix(path, "sumdb/") {
		http.Error(w, "not found: unknown checksum database", http.StatusNotFound)
		return
	}
	var escPath, file string
	if i := strings.Index(path, "/@v/"); i >= 0 {
		escPath, file = path[:i], path[i+len("/@v/"):]
	} else if strings.HasSuffix(path, "/@latest") {
		escPath, file = strings.TrimSuffix(path, "/@latest"), "@latest"
	} else {
		http.Error(w, "not found: not a module path", http.StatusNotFound)
		return
	}
	modPath, err := module.UnescapePath(escPath)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch modPath {
	case "example.com/gone":
		http.Error(w, "gone: example.com/gone was removed from this proxy", http.StatusGone)
		return
	case "example.com/broken":
		http.Error(w, "internal error: fixture database on fire", http.StatusInternalServerError)
		return
	case "example.com/forbidden":
		http.Error(w, "forbidden: private module", http.StatusForbidden)
		return
	}
	if modPath == "example.com/huge" {
		// Larger than any socket buffer, made on first use only (no checksum record).
		hugeOnce.Do(func() {
			hugeVersion = &version{path: modPath, version: "v1.0.0", time: day(40), goMod: "module example.com/huge\n\ngo 1.17\n",
				files: map[string]string{"huge.go": "package huge\n", "data.bin": incompressible(16 << 20)}}
			hugeVersion.build()
		})
		s.count(path)
		switch {
		case file == "v1.0.0.info":
			w.Write(hugeVersion.info)
		case file == "v1.0.0.mod":
			w.Write(hugeVersion.mod)
		case file == "v1.0.0.zip":
			w.Header().Set("Content-Length", strconv.Itoa(len(hugeVersion.zip)))
			w.Write(hugeVersion.zip)
		default:
			http.Error(w, "not found: huge has v1.0.0 only", http.StatusNotFound)
		}
		return
	}
	if strings.HasPrefix(modPath, "example.com/any/") && strings.HasSuffix(file, ".info") {
		// Any module under example.com/any/ has any version (a proxy that
		// answers for whatever it is asked: paths too long to store, say).
		vers, _ := module.UnescapeVersion(strings.TrimSuffix(file, ".info"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"Version\":%q,\"Time\":\"2020-01-01T00:00:00Z\"}\n", vers)
		return
	}
	if _, ok := s.catalog.versions(modPath); !ok {
		http.Error(w, fmt.Sprintf("not found: module %s: no matching versions", modPath), http.StatusNotFound)
		return
	}
	switch {
	case file == "list":
		s.conditional(w, r, "text/plain; charset=utf-8", s.catalog.list(modPath))
		return
	case file == "@latest":
		s.conditional(w, r, "application/json", s.catalog.latest(modPath).info)
		return
	}
	ext := ""
	for _, e := range []string{".info", ".mod", ".zip"} {
		if strings.HasSuffix(file, e) {
			ext = e
		}
	}
	vers, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
	if ext == "" || err != nil {
		http.Error(w, "bad request: invalid file "+file, http.StatusBadRequest)
		return
	}
	v := s.catalog.find(modPath, vers)
	if v == nil && ext == ".info" {
		v = s.catalog.query(modPath, vers)
	}
	if v == nil {
		http.Error(w, fmt.Sprintf("not found: %s@%s: invalid version: unknown revision %s", modPath, vers, vers), http.StatusNotFound)
		return
	}
	switch ext {
	case ".info":
		w.Header().Set("Content-Type", "application/json")
		w.Write(v.info)
	case ".mod":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(v.mod)
	case ".zip":
		s.serveZip(w, r, v)
	}
}

// misbehaveNow answers this request badly, now and then, the ways real
// upstreams fail: a 500 or 503, a body cut short, a slow answer. It reports
// whether it answered.
func (s *server) misbehaveNow(w http.ResponseWriter, r *http.Request) bool {
	n := atomic.AddInt64(&s.requestNo, 1)
	if n%int64(s.misbehave) != 0 {
		return false
	}
	mode := (n / int64(s.misbehave)) % 4
	if s.transient && mode == 0 {
		mode = 1
	}
	switch mode {
	case 0:
		http.Error(w, "fixture: internal error on purpose", http.StatusInternalServerError)
	case 1:
		http.Error(w, "fixture: overloaded on purpose", http.StatusServiceUnavailable)
	case 2:
		if s.transient {
			// A flaky upstream cuts a real download: the next zip served is cut a third of the way.
			if strings.HasSuffix(r.URL.Path, ".zip") {
				atomic.AddInt64(&s.flakyCut, 1)
				return false
			}
			http.Error(w, "fixture: overloaded on purpose", http.StatusServiceUnavailable)
			return true
		}
		// Promise more than is sent, then hang up.
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	default:
		// Slow, then a proper answer.
		time.Sleep(2 * time.Second)
		return false
	}
	return true
}

// conditional answers with an ETag and honours If-None-Match, as proxies do for lists.
func (s *server) conditional(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := fmt.Sprintf("%q", fmt.Sprintf("%x", sum[:8]))
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.count("304")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

func (s *server) serveZip(w http.ResponseWriter, r *http.Request, v *version) {
	if r.Header.Get("Range") != "" {
		s.count("range:" + r.Header.Get("Range"))
	}
	if takeOne(&s.flakyCut) {
		// Promise the whole zip, send a third of it, and hang up: a dropped transfer.
		s.count("flaky:cut")
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Length", strconv.Itoa(len(v.zip)))
		w.Write(v.zip[:len(v.zip)/3])
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	// unsized: chunked, so its size is known only at its end (as behind some proxies).
	if v.path != "example.com/zip64" && v.path != "example.com/outside" && v.path != "example.com/unsized" {
		w.Header().Set("Content-Length", strconv.Itoa(len(v.zip)))
	}
	switch v.path {
	case "example.com/slow":
		// About four seconds for 2 MiB: long enough to be killed mid-way.
		for i := 0; i < len(v.zip); i += 32 << 10 {
			end := i + 32<<10
			if end > len(v.zip) {
				end = len(v.zip)
			}
			if _, err := w.Write(v.zip[i:end]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
		}
	case "example.com/stall":
		// Start, then go quiet for longer than any test waits.
		w.Write(v.zip[:1024])
		w.(http.Flusher).Flush()
		time.Sleep(120 * time.Second)
	case "example.com/zip64":
		// 200 bytes that once trapped goedge: a ZIP64 field putting the
		// local header at offset 2^63, and an entry of 2^64-1 bytes.
		body := crafted.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	case "example.com/outside":
		// Complete and intact as bytes, but against the module zip rules: a
		// file outside module@version/. The go command says so itself.
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		for _, name := range []string{v.path + "@" + v.version + "/go.mod", "outside.txt"} {
			f, _ := zw.Create(name)
			f.Write([]byte("module " + v.path + "\n"))
		}
		zw.Close()
		w.Header().Set("Content-Length", strconv.Itoa(zb.Len()))
		w.Write(zb.Bytes())
	case "example.com/truncated":
		// Promise the whole zip, send half, and hang up.
		w.Write(v.zip[:len(v.zip)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case "example.com/unsized":
		w.Write(v.zip)
	default:
		// Ranges as any HTTP server serves them (a resumed download asks for one).
		w.Header().Del("Content-Length")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(v.zip))
	}
}

// crafted is one zip entry whose sizes and header offset sit in a ZIP64
// extra field: offset 2^63, uncompressed size 2^64-1.
var crafted = func() *bytes.Buffer {
	le := binary.LittleEndian
	name := []byte("example.com/zip64@v1.0.0/go.mod")
	extra := make([]byte, 28)
	le.PutUint16(extra[0:], 1)
	le.PutUint16(extra[2:], 24)
	le.PutUint64(extra[4:], ^uint64(0))
	le.PutUint64(extra[12:], 10)
	le.PutUint64(extra[20:], 1<<63)
	var cd bytes.Buffer
	head := make([]byte, 46)
	le.PutUint32(head[0:], 0x02014b50)
	le.PutUint16(head[4:], 45)
	le.PutUint16(head[6:], 45)
	le.PutUint16(head[10:], 8)
	le.PutUint32(head[20:], 0xFFFFFFFF)
	le.PutUint32(head[24:], 0xFFFFFFFF)
	le.PutUint16(head[28:], uint16(len(name)))
	le.PutUint16(head[30:], uint16(len(extra)))
	le.PutUint32(head[42:], 0xFFFFFFFF)
	cd.Write(head)
	cd.Write(name)
	cd.Write(extra)
	end := make([]byte, 22)
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], 1)
	le.PutUint16(end[10:], 1)
	le.PutUint32(end[12:], uint32(cd.Len()))
	cd.Write(end)
	return &cd
}()

func (s *server) control(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/_fixture/") {
	case "stats":
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.counts)
	case "reset":
		s.mu.Lock()
		s.counts = map[string]int{}
		s.clients = map[string]bool{}
		s.mu.Unlock()
		atomic.StoreInt64(&s.lastAnswered, 0)
	case "last-answer":
		// When the last answer was complete, in Unix milliseconds (0: none since the reset).
		fmt.Fprintf(w, "%d\n", atomic.LoadInt64(&s.lastAnswered))
	case "publish":
		// A new version, published now: in the catalog, and recorded in the
		// checksum databases at once (as proxy.golang.org records a version
		// when it first fetches it). Its .info Time is what the publisher
		// chose (time=RFC 3339): a backdated release says an old date.
		q := r.URL.Query()
		published, err := time.Parse(time.RFC3339, q.Get("time"))
		if err != nil {
			http.Error(w, "time: "+err.Error(), http.StatusBadRequest)
			return
		}
		path, vers := q.Get("module"), q.Get("version")
		v := &version{path: path, version: vers, time: published,
			goMod: "module " + path + "\n\ngo 1.17\n", files: map[string]string{"p.go": "package p\n\nconst V = \"" + vers + "\"\n"}}
		v.build()
		s.catalog.add(v)
		s.publish(v)
		fmt.Fprintf(w, "published %s@%s\n", path, vers)
	case "flaky":
		// The next COUNT proxy requests answer 503 (how=503), or the next COUNT zip downloads are cut (how=cut).
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		switch r.URL.Query().Get("how") {
		case "503":
			atomic.StoreInt64(&s.flaky503, int64(count))
		case "cut":
			atomic.StoreInt64(&s.flakyCut, int64(count))
		}
	case "fail":
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		atomic.StoreInt64(&s.failStatus, int64(status))
	case "files":
		// The protocol path of every .info, .mod and .zip in the catalog, one a line.
		var paths []string
		for _, v := range s.catalog.all() {
			{
				escPath, _ := module.EscapePath(v.path)
				escVers, _ := module.EscapeVersion(v.version)
				for _, ext := range []string{".info", ".mod", ".zip"} {
					paths = append(paths, "/"+escPath+"/@v/"+escVers+ext)
				}
			}
		}
		sort.Strings(paths)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, strings.Join(paths, "\n")+"\n")
	case "gosum":
		// The go.sum lines of every version in the catalog.
		for _, v := range s.catalog.all() {
			w.Write(v.gosum())
		}
	default:
		http.NotFound(w, r)
	}
}

// takeOne takes one from a counter of misbehaviours to come, if any are left.
func takeOne(counter *int64) bool {
	for {
		left := atomic.LoadInt64(counter)
		if left <= 0 {
			return false
		}
		if atomic.CompareAndSwapInt64(counter, left, left-1) {
			return true
		}
	}
}
