// The catalogs of modules the fixture serves, and how their files are made.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	mathrand "math/rand"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

type version struct {
	path, version string
	time          time.Time
	goMod         string // empty: the module has no go.mod (the .mod is synthesized)
	files         map[string]string
	zip, mod      []byte
	info          []byte
}

type catalog struct {
	mu      sync.RWMutex // versions are published while serving (see /_fixture/publish)
	modules map[string][]*version
	queries map[string]map[string]string // module → query (branch, commit prefix) → version
}

func (c *catalog) add(v *version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.modules == nil {
		c.modules = map[string][]*version{}
	}
	c.modules[v.path] = append(c.modules[v.path], v)
}

// versions is a copy of the versions of path, and whether the module exists.
func (c *catalog) versions(path string) ([]*version, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	versions, ok := c.modules[path]
	return append([]*version(nil), versions...), ok
}

// all is every version of every module.
func (c *catalog) all() []*version {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var all []*version
	for _, versions := range c.modules {
		all = append(all, versions...)
	}
	return all
}

func (c *catalog) find(path, vers string) *version {
	versions, _ := c.versions(path)
	for _, v := range versions {
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
	versions, _ := c.versions(path)
	for _, v := range versions {
		if best == nil || rank(v) > rank(best) || rank(v) == rank(best) && semver.Compare(v.version, best.version) > 0 {
			best = v
		}
	}
	return best
}

func (c *catalog) list(path string) []byte {
	var versions []string
	all, _ := c.versions(path)
	for _, v := range all {
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
	zipFile := writeTemp(v.zip)
	zipHash, err := dirhash.HashZip(zipFile, dirhash.Hash1)
	os.Remove(zipFile)
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
	// A version published just now, beside an old one: for the release-age cooldown.
	c.add(&version{path: "example.com/fresh", version: "v1.0.0", time: day(50), goMod: goMod("example.com/fresh"),
		files: pkg("fresh", `func V() string { return "v1.0.0" }`)})
	c.add(&version{path: "example.com/fresh", version: "v1.1.0", time: time.Now().UTC().Truncate(time.Second),
		goMod: goMod("example.com/fresh"), files: pkg("fresh", `func V() string { return "v1.1.0" }`)})
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
	for _, path := range []string{"example.com/big", "example.com/slow", "example.com/truncated", "example.com/stall", "example.com/unsized"} {
		c.add(&version{path: path, version: "v1.0.0", time: day(40), goMod: goMod(path),
			files: map[string]string{"big.go": "package big\n", "data.bin": incompressible(2 << 20)}})
	}
	addToolchains(c)
	for i := 0; i < 6; i++ {
		path := fmt.Sprintf("example.com/filler%d", i)
		c.add(&version{path: path, version: "v1.0.0", time: day(50 + i), goMod: goMod(path),
			files: map[string]string{"filler.go": "package filler\n", "data.bin": incompressible(40 << 10)}})
	}
	return c
}

// graphCatalog is a module graph of about n modules in layers, each
// requiring a few of the next layer: what a mid-sized service pulls in.
func graphCatalog(n int) *catalog { return layeredCatalog(n, false) }

// appCatalog is graphCatalog shaped like a real application's dependencies:
// every other module also requires an older version (v0.9.0) of a module two
// layers down, whose go.mod the go command reads and go.sum then lists, and
// each zip carries about 180 KiB that does not compress. For n = 150: about
// 220 modules in go.sum, 520 files, 27 MiB.
func appCatalog(n int) *catalog { return layeredCatalog(n, true) }

func layeredCatalog(n int, app bool) *catalog {
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
		if older := (layer+2)*width + (i*3)%width; app && i%2 == 0 && older < n {
			requires = append(requires, name(older)+" v0.9.0")
		}
		requires = uniq(requires)
		imports = uniq(imports)
		s := "module " + name(i) + "\n\ngo 1.17\n"
		if len(requires) > 0 {
			s += "\nrequire (\n\t" + strings.Join(requires, "\n\t") + "\n)\n"
		}
		body := graphPackage(i, imports)
		path := name(i)
		data := strings.Repeat("x", 2000+i*37)
		if app {
			data = noise(int64(i), 180<<10)
		}
		c.add(&version{path: path, version: "v1.0.0", time: day(i), goMod: s,
			files: map[string]string{"m.go": body, "data.txt": data}})
		if app {
			c.add(&version{path: path, version: "v0.9.0", time: day(i).Add(-time.Hour),
				goMod: "module " + path + "\n\ngo 1.17\n", files: map[string]string{"m.go": fmt.Sprintf("package m%03d\n\nfunc N() int { return 1 }\n", i)}})
		}
	}
	return c
}

// graphPackage is package mNNN of a graph module: it imports each of
// imports ("mJJJ \"path\"") and calls its N.
func graphPackage(i int, imports []string) string {
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
	return body + " }\n"
}

// mixedCatalog is a module graph of n modules in layers shaped like real
// ones: a quarter of the modules at every depth declare go 1.13 to 1.16
// (unpruned: the go command reads the go.mod files of everything below
// them), the rest go 1.17 to 1.20 (pruned); each module has v1.0.0 and
// v1.1.0, and requirers ask for either, so the go command reads go.mod
// files of versions it does not select; every third module also requires
// v1.0.0 of a module two layers down; the pruned ones list their
// requirements' requirements as // indirect, as go mod tidy writes them.
// Zips carry 60 KiB that does not compress.
func mixedCatalog(n int) *catalog {
	c := &catalog{queries: map[string]map[string]string{}}
	const width = 10
	name := func(i int) string { return fmt.Sprintf("example.com/graph/m%03d", i) }
	goVersion := func(i int) string {
		if i%4 == 1 {
			return []string{"1.13", "1.14", "1.16"}[(i/4)%3]
		}
		return []string{"1.17", "1.18", "1.19", "1.20"}[(i/4)%4]
	}
	// What version v of module i requires directly, and the packages it imports.
	direct := func(i int, v string) (requires, imports []string) {
		layer := i / width
		for k := 0; k < 3; k++ {
			j := (layer+1)*width + (i*7+k*3)%width
			if j >= n {
				continue
			}
			at := "v1.0.0"
			if v == "v1.1.0" && (i+k)%2 == 0 {
				at = "v1.1.0"
			}
			requires = append(requires, name(j)+" "+at)
			imports = append(imports, fmt.Sprintf("m%03d %q", j, name(j)))
		}
		if older := (layer+2)*width + (i*3)%width; i%3 == 0 && older < n {
			requires = append(requires, name(older)+" v1.0.0")
		}
		return uniq(requires), uniq(imports)
	}
	for i := 0; i < n; i++ {
		for _, v := range []string{"v1.0.0", "v1.1.0"} {
			requires, imports := direct(i, v)
			pruned := goVersion(i) >= "1.17"
			var indirect []string
			if pruned {
				seen := map[string]bool{}
				for _, r := range requires {
					seen[strings.Fields(r)[0]] = true
				}
				for _, r := range requires {
					var j int
					fmt.Sscanf(strings.TrimPrefix(strings.Fields(r)[0], "example.com/graph/m"), "%d", &j)
					below, _ := direct(j, strings.Fields(r)[1])
					for _, b := range below {
						if !seen[strings.Fields(b)[0]] {
							seen[strings.Fields(b)[0]] = true
							indirect = append(indirect, b+" // indirect")
						}
					}
				}
			}
			s := "module " + name(i) + "\n\ngo " + goVersion(i) + "\n"
			if all := append(append([]string{}, requires...), indirect...); len(all) > 0 {
				s += "\nrequire (\n\t" + strings.Join(all, "\n\t") + "\n)\n"
			}
			body := graphPackage(i, imports)
			when := day(i)
			if v == "v1.0.0" {
				when = when.Add(-time.Hour)
			}
			c.add(&version{path: name(i), version: v, time: when, goMod: s,
				files: map[string]string{"m.go": body, "data.txt": noise(int64(i), 60<<10)}})
		}
	}
	return c
}

// noise is size bytes that do not compress, the same for the same seed (a
// workspace's go.sum made against one fixture process holds for the next).
func noise(seed int64, size int) string {
	b := make([]byte, size)
	mathrand.New(mathrand.NewSource(seed)).Read(b)
	return string(b)
}

// sizesCatalog is n unrelated modules (example.com/sized/mNNN v1.0.0) whose
// zips grow evenly from about 50 KB to about 1 MB: the different cold misses
// of a CI host's first minute.
func sizesCatalog(n int) *catalog {
	c := &catalog{queries: map[string]map[string]string{}}
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("example.com/sized/m%03d", i)
		size := 50 << 10
		if n > 1 {
			size += i * ((1 << 20) - (50 << 10)) / (n - 1)
		}
		c.add(&version{path: path, version: "v1.0.0", time: day(i), goMod: "module " + path + "\n\ngo 1.17\n",
			files: map[string]string{"m.go": fmt.Sprintf("package m%03d\n", i), "data.bin": noise(int64(1000+i), size)}})
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

// addToolchains adds Go toolchains as the go command (Go 1.21+) downloads
// them: the module golang.org/toolchain at v0.0.1-goVERSION.GOOS-GOARCH.
// go1.999testmod is cmd/go's own fake toolchain (its testdata
// golang.org_toolchain_v0.0.1-go1.999testmod.*.txt, with the same files): bin/go
// is a shell script that says which it is. go1.990.0 and go1.991.0 are the
// same with 2 MiB that does not compress, and go1.992.0 with 5 MiB: the
// size of a real toolchain (about 70 MB) scaled to a test's cache.
func addToolchains(c *catalog) {
	platforms := []string{"linux-amd64", "linux-arm64", "darwin-arm64", "windows-amd64"}
	host := runtime.GOOS + "-" + runtime.GOARCH
	if !contains(platforms, host) {
		platforms = append(platforms, host)
	}
	toolchain := func(name, platform string, extra int, when time.Time) {
		files := map[string]string{
			"bin/go":                   "#!/bin/sh\necho " + name + " here!\n",
			"bin/gofmt":                "echo i am unused\n",
			"pkg/tool/fake":            "",
			"lib/wasm/go_js_wasm_exec": "",
		}
		if extra > 0 {
			files["pkg/tool/data.bin"] = noise(int64(len(name)*1000+extra), extra)
		}
		c.add(&version{path: "golang.org/toolchain", version: "v0.0.1-" + name + "." + platform, time: when,
			goMod: "module golang.org/toolchain\n", files: files})
	}
	for _, platform := range platforms {
		toolchain("go1.999testmod", platform, 0, day(60))
	}
	toolchain("go1.990.0", host, 2<<20, day(61))
	toolchain("go1.991.0", host, 2<<20, day(62))
	toolchain("go1.992.0", host, 5<<20, day(63))
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}
