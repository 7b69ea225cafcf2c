// The signed checksum databases the fixture serves.
package main

import (
	"context"
	"crypto/rand"
	"io/fs"
	"log"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

// checksumDatabase is a signed checksum database of every version in
// gosums, named name, and the key that verifies it.
func checksumDatabase(name string, gosums *goSums) (*sumdb.TestServer, string) {
	signer, verifier, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		log.Fatal(err)
	}
	db := sumdb.NewTestServer(signer, func(path, vers string) ([]byte, error) {
		if sum, ok := gosums.get(path + "@" + vers); ok {
			return sum, nil
		}
		return nil, fs.ErrNotExist
	})
	// Record every version now, in a fixed order, so that the tree (and every
	// tile) is the same for every client, as with a real checksum database.
	keys := gosums.keys()
	sort.Strings(keys)
	for _, key := range keys {
		i := strings.LastIndex(key, "@")
		if _, err := db.Lookup(context.Background(), module.Version{Path: key[:i], Version: key[i+1:]}); err != nil {
			log.Fatal(err)
		}
	}
	return db, verifier
}

// goSums holds the go.sum lines of every version, published ones included.
type goSums struct {
	mu    sync.Mutex
	lines map[string][]byte
}

func (g *goSums) add(v *version) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lines[v.path+"@"+v.version] = v.gosum()
}

func (g *goSums) get(key string) ([]byte, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sum, ok := g.lines[key]
	return sum, ok
}

func (g *goSums) keys() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var keys []string
	for key := range g.lines {
		keys = append(keys, key)
	}
	return keys
}

// publish records a version published now in every checksum database.
func (s *server) publish(v *version) {
	s.gosums.add(v)
	for _, db := range s.databases {
		if _, err := db.Lookup(context.Background(), module.Version{Path: v.path, Version: v.version}); err != nil {
			log.Printf("recording %s@%s: %v", v.path, v.version, err)
		}
	}
}
