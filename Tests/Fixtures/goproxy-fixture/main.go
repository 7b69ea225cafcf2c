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
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb"
)

const sumdbName = "testsum.example"

// pathSumdbName is a second checksum database whose name has a path, as a
// company's own can (GOSUMDB="sum.example.com/go+<key>").
const pathSumdbName = "localhost.test/sumdb"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	catalogName := flag.String("catalog", "core", "core, graph:N for a module graph of N modules, app:N for that graph shaped like an application's (older versions, larger zips), mixed:N for a graph mixing unpruned and pruned modules at several versions, corpus:N for N modules of 2 to 4 versions each, or sizes:N for N unrelated modules with zips of 50 KB to 1 MB")
	delay := flag.Duration("delay", 0, "time to wait before answering each proxy request")
	misbehave := flag.Int("misbehave", 0, "misbehave on about one proxy request in N (0: never): errors, cut bodies, slow answers")
	transient := flag.Bool("transient", false, "misbehave only as a flaky upstream does (503, cut bodies, slow answers), never with a 500")
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
	case strings.HasPrefix(*catalogName, "app:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "app:"))
		if err != nil {
			log.Fatal(err)
		}
		c = appCatalog(n)
	case strings.HasPrefix(*catalogName, "mixed:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "mixed:"))
		if err != nil {
			log.Fatal(err)
		}
		c = mixedCatalog(n)
	case strings.HasPrefix(*catalogName, "corpus:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "corpus:"))
		if err != nil {
			log.Fatal(err)
		}
		c = corpusCatalog(n)
	case strings.HasPrefix(*catalogName, "sizes:"):
		n, err := strconv.Atoi(strings.TrimPrefix(*catalogName, "sizes:"))
		if err != nil {
			log.Fatal(err)
		}
		c = sizesCatalog(n)
	default:
		log.Fatalf("unknown catalog %q", *catalogName)
	}
	gosums := &goSums{lines: map[string][]byte{}}
	for _, v := range c.all() {
		v.build()
		gosums.add(v)
	}
	db, verifier := checksumDatabase(sumdbName, gosums)
	pathDB, pathVerifier := checksumDatabase(pathSumdbName, gosums)
	s := &server{catalog: c, delay: *delay, misbehave: *misbehave, transient: *transient, sumdb: sumdb.NewServer(db), verifier: verifier,
		pathSumdb: sumdb.NewServer(pathDB), counts: map[string]int{}, clients: map[string]bool{},
		gosums: gosums, databases: []*sumdb.TestServer{db, pathDB}}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening http://%s\nsumdb %s\nsumdb-path %s\n", ln.Addr(), verifier, pathVerifier)
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, s))
}
