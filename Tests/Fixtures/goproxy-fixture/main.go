// goproxy-fixture is the upstream goedge's tests and benchmarks run against:
// a module proxy for a catalog of real modules (zips made by
// golang.org/x/mod/zip, so they follow the module zip rules), with a signed
// checksum database (golang.org/x/mod/sumdb), served over loopback.
//
// It also misbehaves on request, the way real upstreams do: errors with
// text bodies, 410s, redirects, truncated and slow downloads, a fixed delay
// per request (a WAN round trip), and failing everything on command.
//
// It prints "listening http://HOST:PORT" and "sumdb NAME+KEY" on stdout once
// ready. Built by the tests with Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o goproxy-fixture .
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	modzip "golang.org/x/mod/zip"
)

const sumdbName = "testsum.example"

// pathSumdbName is a second checksum database whose name has a path, as a
// company's own can (GOSUMDB="sum.example.com/go+<key>").
const pathSumdbName = "localhost.test/sumdb"

type version struct {
	path, version string
	time          time.Time
	goMod         string // empty: the module has no go.mod (the .mod is synthesized)
	files         map[string]string
	zip, mod      []byte
	info          []byte
}

type catalog struct {
	modules map[string][]*version
	queries map[string]map[string]string // module → query (branch, commit prefix) → version
}

func (c *catalog) add(v *version) {
	if c.modules == nil {
		c.modules = map[string][]*version{}
	}
	c.modules[v.path] = append(c.modules[v.path], v)
}

func (c *catalog) find(path, vers string) *version {
	for _, v := range c.modules[path] {
		if v.version == vers {
			return v
		}
	}
	return nil
}

func (c *catalog) query(path, query string) *version {
	if resolved, ok := c.queries[path][query]; ok {
		return c.find(path, resolved)
	}
	return nil
}

// latest is what @latest answers: the highest release, else the highest
// pre-release, else the newest pseudo-version.
func (c *catalog) latest(path string) *version {
	var best *version
	rank := func(v *version) int {
		switch {
		case module.IsPseudoVersion(v.version):
			return 0
		case semver.Prerelease(v.version) != "":
			return 1
		}
		return 2
	}
	for _, v := range c.modules[path] {
		if best == nil || rank(v) > rank(best) || rank(v) == rank(best) && semver.Compare(v.version, best.version) > 0 {
			best = v
		}
	}
	return best
}

func (c *catalog) list(path string) []byte {
	var versions []string
	for _, v := range c.modules[path] {
		if !module.IsPseudoVersion(v.version) {
			versions = append(versions, v.version)
		}
	}
	semver.Sort(versions)
	var b bytes.Buffer
	for _, v := range versions {
		b.WriteString(v + "\n")
	}
	return b.Bytes()
}

// memFile is one file of a module zip, held in memory.
type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string                 { return f.name }
func (f memFile) Lstat() (os.FileInfo, error)  { return memInfo{f}, nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct{ f memFile }

func (i memInfo) Name() string       { return i.f.name }
func (i memInfo) Size() int64        { return int64(len(i.f.data)) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() interface{}   { return nil }

func (v *version) build() {
	var files []modzip.File
	if v.goMod != "" {
		files = append(files, memFile{"go.mod", []byte(v.goMod)})
		v.mod = []byte(v.goMod)
	} else {
		v.mod = []byte("module " + v.path + "\n")
	}
	names := make([]string, 0, len(v.files))
	for name := range v.files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		files = append(files, memFile{name, []byte(v.files[name])})
	}
	var zip bytes.Buffer
	if err := modzip.Create(&zip, module.Version{Path: v.path, Version: v.version}, files); err != nil {
		log.Fatalf("zip %s@%s: %v", v.path, v.version, err)
	}
	v.zip = zip.Bytes()
	v.info, _ = json.Marshal(struct {
		Version string
		Time    time.Time
	}{v.version, v.time})
}

// gosum is what the checksum database records for a module version.
func (v *version) gosum() []byte {
	zipHash, err := dirhash.HashZip(writeTemp(v.zip), dirhash.Hash1)
	if err != nil {
		log.Fatal(err)
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(v.mod)), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	return []byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", v.path, v.version, zipHash, v.path, v.version, modHash))
}

func writeTemp(data []byte) string {
	f, err := os.CreateTemp("", "fixture-*.zip")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	f.Write(data)
	return f.Name()
}

func incompressible(size int) string {
	b := make([]byte, size)
	rand.Read(b)
	return string(b)
}

var epoch = time.Date(2023, 1, 2, 15, 4, 5, 0, time.UTC)

func day(n int) time.Time { return epoch.Add(time.Duration(n) * 24 * time.Hour) }

// coreCatalog holds the modules the integration tests use.
func coreCatalog() *catalog {
	c := &catalog{queries: map[string]map[string]string{}}
	goMod := func(path string, requires ...string) string {
		s := "module " + path + "\n\ngo 1.17\n"
		if len(requires) > 0 {
			s += "\nrequire (\n"
			for _, r := range requires {
				s += "\t" + r + "\n"
			}
			s += ")\n"
		}
		return s
	}
	pkg := func(name, body string) map[string]string {
		return map[string]string{name + ".go": "package " + name + "\n\n" + body + "\n"}
	}
	for i, v := range []string{"v1.0.0", "v1.0.1"} {
		c.add(&version{path: "example.com/dep", version: v, time: day(i), goMod: goMod("example.com/dep"),
			files: pkg("dep", `func Name() string { return "dep `+v+`" }`)})
	}
	hello := func(v string, n int, requires []string, extra string, body string) {
		c.add(&version{path: "example.com/hello", version: v, time: day(10 + n),
			goMod: goMod("example.com/hello", requires...) + extra, files: pkg("hello", body)})
	}
	plain := `func Hello() string { return "hello" }`
	withDep := "import \"example.com/dep\"\n\nfunc Hello() string { return \"hello from \" + dep.Name() }"
	hello("v1.0.0", 0, nil, "", plain)
	hello("v1.1.0", 1, []string{"example.com/dep v1.0.0"}, "", withDep)
	hello("v1.2.0-rc.1", 2, []string{"example.com/dep v1.0.0"}, "", withDep)
	hello("v1.2.0", 3, []string{"example.com/dep v1.0.1"}, "", withDep)
	// The latest version retracts an earlier one.
	hello("v1.3.0", 4, []string{"example.com/dep v1.0.1"}, "\n// Broken: do not use.\nretract v1.2.0\n", withDep)

	c.add(&version{path: "example.com/Upper/Case", version: "v1.0.0", time: day(20), goMod: goMod("example.com/Upper/Case"),
		files: pkg("casepkg", `func Shout() string { return "LOUD" }`)})
	c.add(&version{path: "example.com/quote", version: "v1.5.2", time: day(21), goMod: goMod("example.com/quote"),
		files: pkg("quote", `func Quote() string { return "v1.5.2" }`)})
	c.add(&version{path: "example.com/quote", version: "v1.5.3-PRE", time: day(22), goMod: goMod("example.com/quote"),
		files: pkg("quote", `func Quote() string { return "v1.5.3-PRE" }`)})
	// No go.mod: v2 can only be +incompatible, and the .mod is synthesized.
	c.add(&version{path: "example.com/incompat", version: "v1.0.0", time: day(30),
		files: pkg("incompat", `func V() int { return 1 }`)})
	c.add(&version{path: "example.com/incompat", version: "v2.0.0+incompatible", time: day(31),
		files: pkg("incompat", `func V() int { return 2 }`)})
	// Only a pseudo-version, reachable by branch name and commit prefix.
	pseudo := "v0.0.0-20230301120000-abcdefabcdef"
	c.add(&version{path: "example.com/pseudo", version: pseudo, time: time.Date(2023, 3, 1, 12, 0, 0, 0, time.UTC),
		goMod: goMod("example.com/pseudo"), files: pkg("pseudo", `func Rev() string { return "abcdef" }`)})
	c.queries["example.com/pseudo"] = map[string]string{"master": pseudo, "abcdefab": pseudo}
	// Zips that are not what they claim: crafted to trap a zip reader, and against the module rules.
	for _, path := range []string{"example.com/zip64", "example.com/outside"} {
		c.add(&version{path: path, version: "v1.0.0", time: day(45), goMod: goMod(path),
			files: pkg("x", `func X() {}`)})
	}
	// Large, incompressible zips for concurrency, eviction and interrupted downloads.
	for _, path := range []string{"example.com/big", "example.com/slow", "example.com/truncated", "example.com/stall"} {
		c.add(&version{path: path, version: "v1.0.0", time: day(40), goMod: goMod(path),
			files: map[string]string{"big.go": "package big\n", "data.bin": incompressible(2 << 20)}})
	}
	for i := 0; i < 6; i++ {
		path := fmt.Sprintf("example.com/filler%d", i)
		c.add(&version{path: path, version: "v1.0.0", time: day(50 + i), goMod: goMod(path),
			files: map[string]string{"filler.go": "package filler\n", "data.bin": incompressible(40 << 10)}})
	}
	return c
}

// graphCatalog is a module graph of about n modules in layers, each
// requiring a few of the next layer: what a mid-sized service pulls in.
func graphCatalog(n int) *catalog {
	c := &catalog{queries: map[string]map[string]string{}}
	const width = 10
	name := func(i int) string { return fmt.Sprintf("example.com/graph/m%03d", i) }
	for i := 0; i < n; i++ {
		layer := i / width
		var requires, imports []string
		for k := 0; k < 3; k++ {
			j := (layer+1)*width + (i*7+k*3)%width
			if j < n {
				requires = append(requires, name(j)+" v1.0.0")
				imports = append(imports, fmt.Sprintf("m%03d %q", j, name(j)))
			}
		}
		requires = uniq(requires)
		imports = uniq(imports)
		s := "module " + name(i) + "\n\ngo 1.17\n"
		if len(requires) > 0 {
			s += "\nrequire (\n\t" + strings.Join(requires, "\n\t") + "\n)\n"
		}
		body := fmt.Sprintf("package m%03d\n\n", i)
		var calls []string
		if len(imports) > 0 {
			body += "import (\n\t" + strings.Join(imports, "\n\t") + "\n)\n\n"
			for _, imp := range imports {
				calls = append(calls, strings.Fields(imp)[0]+".N()")
			}
		}
		body += "func N() int { return 1"
		for _, call := range calls {
			body += " + " + call
		}
		body += " }\n"
		path := name(i)
		c.add(&version{path: path, version: "v1.0.0", time: day(i), goMod: s,
			files: map[string]string{"m.go": body, "data.txt": strings.Repeat("x", 2000+i*37)}})
	}
	return c
}

// corpusCatalog is n modules in layers with two to four versions each
// (about 3n versions in all), each version requiring some version of a few
// modules in the next layer: a cold cache's worth of distinct files for
// stress runs, with zips of different sizes.
func corpusCatalog(n int) *catalog {
	c := &catalog{queries: map[string]map[string]string{}}
	const width = 10
	name := func(i int) string { return fmt.Sprintf("example.com/corpus/m%03d", i) }
	versionsOf := func(i int) int { return 2 + i%3 }
	for i := 0; i < n; i++ {
		layer := i / width
		for v := 0; v < versionsOf(i); v++ {
			var requires []string
			for k := 0; k < 3; k++ {
				j := (layer+1)*width + (i*7+k*3+v)%width
				if j < n {
					requires = append(requires, fmt.Sprintf("%s v1.%d.0", name(j), (i+v+k)%versionsOf(j)))
				}
			}
			requires = uniq(requires)
			s := "module " + name(i) + "\n\ngo 1.17\n"
			if len(requires) > 0 {
				s += "\nrequire (\n\t" + strings.Join(requires, "\n\t") + "\n)\n"
			}
			c.add(&version{path: name(i), version: fmt.Sprintf("v1.%d.0", v), time: day(i + v), goMod: s,
				files: map[string]string{
					"m.go":     fmt.Sprintf("package m%03d\n\nfunc N() int { return %d }\n", i, v),
					"data.txt": strings.Repeat("y", 1000+(i*131+v*977)%30000),
				}})
		}
	}
	return c
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type server struct {
	catalog  *catalog
	delay    time.Duration
	sumdb    http.Handler
	verifier string
	// The second database, named with a path.
	pathSumdb http.Handler

	failStatus int64 // when non-zero, every proxy request fails with it
	misbehave  int   // one request in about this many misbehaves
	requestNo  int64
	mu         sync.Mutex
	counts     map[string]int
	clients    map[string]bool // remote addresses of connections that asked for proxy paths
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
	if !clean && s.misbehave > 0 && s.misbehaveNow(w) {
		return
	}
	s.count(path)
	s.mu.Lock()
	if !s.clients[r.RemoteAddr] {
		// A connection not seen before (the client's port tells them apart).
		s.clients[r.RemoteAddr] = true
		s.counts["_connections"]++
	}
	s.mu.Unlock()
	if s.delay > 0 {
		time.Sleep(s.delay)
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
	if _, ok := s.catalog.modules[modPath]; !ok {
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
		s.serveZip(w, v)
	}
}

// misbehaveNow answers this request badly, now and then, the ways real
// upstreams fail: a 500 or 503, a body cut short, a slow answer. It reports
// whether it answered.
func (s *server) misbehaveNow(w http.ResponseWriter) bool {
	n := atomic.AddInt64(&s.requestNo, 1)
	if n%int64(s.misbehave) != 0 {
		return false
	}
	switch (n / int64(s.misbehave)) % 4 {
	case 0:
		http.Error(w, "fixture: internal error on purpose", http.StatusInternalServerError)
	case 1:
		http.Error(w, "fixture: overloaded on purpose", http.StatusServiceUnavailable)
	case 2:
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

func (s *server) serveZip(w http.ResponseWriter, v *version) {
	w.Header().Set("Content-Type", "application/zip")
	if v.path != "example.com/zip64" && v.path != "example.com/outside" {
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
	default:
		w.Write(v.zip)
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
	case "fail":
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		atomic.StoreInt64(&s.failStatus, int64(status))
	case "files":
		// The protocol path of every .info, .mod and .zip in the catalog, one a line.
		var paths []string
		for _, versions := range s.catalog.modules {
			for _, v := range versions {
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
		for _, versions := range s.catalog.modules {
			for _, v := range versions {
				w.Write(v.gosum())
			}
		}
	default:
		http.NotFound(w, r)
	}
}

// checksumDatabase is a signed checksum database of every version in
// gosums, named name, and the key that verifies it.
func checksumDatabase(name string, gosums map[string][]byte) (*sumdb.TestServer, string) {
	signer, verifier, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		log.Fatal(err)
	}
	db := sumdb.NewTestServer(signer, func(path, vers string) ([]byte, error) {
		if sum, ok := gosums[path+"@"+vers]; ok {
			return sum, nil
		}
		return nil, fs.ErrNotExist
	})
	// Record every version now, in a fixed order, so that the tree (and every
	// tile) is the same for every client, as with a real checksum database.
	var keys []string
	for key := range gosums {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		i := strings.LastIndex(key, "@")
		if _, err := db.Lookup(context.Background(), module.Version{Path: key[:i], Version: key[i+1:]}); err != nil {
			log.Fatal(err)
		}
	}
	return db, verifier
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	catalogName := flag.String("catalog", "core", "core, graph:N for a module graph of N modules, or corpus:N for N modules of 2 to 4 versions each")
	delay := flag.Duration("delay", 0, "time to wait before answering each proxy request")
	misbehave := flag.Int("misbehave", 0, "misbehave on about one proxy request in N (0: never): errors, cut bodies, slow answers")
	flag.Parse()

	var c *catalog
	switch {
	case *catalogName == "core":
		c = coreCatalog()
	case strings.HasPrefix(*catalogName, "graph:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "graph:"))
		if err != nil {
			log.Fatal(err)
		}
		c = graphCatalog(n)
	case strings.HasPrefix(*catalogName, "corpus:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "corpus:"))
		if err != nil {
			log.Fatal(err)
		}
		c = corpusCatalog(n)
	default:
		log.Fatalf("unknown catalog %q", *catalogName)
	}
	gosums := map[string][]byte{}
	for _, versions := range c.modules {
		for _, v := range versions {
			v.build()
			gosums[v.path+"@"+v.version] = v.gosum()
		}
	}
	db, verifier := checksumDatabase(sumdbName, gosums)
	pathDB, pathVerifier := checksumDatabase(pathSumdbName, gosums)
	s := &server{catalog: c, delay: *delay, misbehave: *misbehave, sumdb: sumdb.NewServer(db), verifier: verifier,
		pathSumdb: sumdb.NewServer(pathDB), counts: map[string]int{}, clients: map[string]bool{}}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening http://%s\nsumdb %s\nsumdb-path %s\n", ln.Addr(), verifier, pathVerifier)
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, s))
}
