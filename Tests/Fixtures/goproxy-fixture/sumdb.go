// The signed checksum databases the fixture serves.
package main

import (
	"context"
	"crypto/rand"
	"io/fs"
	"log"
	"sort"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

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
