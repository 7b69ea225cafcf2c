// load-client asks a proxy for many files at once over keep-alive
// connections and checks every answer byte for byte against a reference
// (the fixture itself): the stress tests' and the soak benchmark's client.
//
// Every request has its own timeout, and the run as a whole a deadline, so
// that a request that is never answered is reported, not waited for. It
// prints one JSON object:
//
//	{"requests":N,"answered":N,"unanswered":N,"mismatched":N,"statuses":{...},"failures":[...]}
//
// Built by the tests with the standard library only:
//
//	GO111MODULE=off go build -o load-client .
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type summary struct {
	Requests   int            `json:"requests"`
	Answered   int            `json:"answered"`
	Unanswered int            `json:"unanswered"`
	Mismatched int            `json:"mismatched"`
	Statuses   map[string]int `json:"statuses"`
	Failures   []string       `json:"failures"`
	Seconds    float64        `json:"seconds"`
}

type result struct {
	path   string
	status int
	err    error
	body   []byte
}

func main() {
	target := flag.String("target", "", "base URL of the proxy under test")
	reference := flag.String("reference", "", "base URL of the reference (the fixture); its /_fixture/files lists the paths")
	clients := flag.Int("clients", 8, "concurrent clients, each on its own keep-alive connection")
	timeout := flag.Duration("timeout", 20*time.Second, "time allowed for one request")
	deadline := flag.Duration("deadline", 5*time.Minute, "time allowed for the whole run")
	duration := flag.Duration("duration", 0, "keep asking (cycling through the paths) for this long; 0 asks each path once")
	extra := flag.String("extra", "", "a file of further paths (one a line) to mix in, answered by the reference too")
	seed := flag.Int64("seed", 1, "order of the requests")
	referencePrefix := flag.String("reference-prefix", "", "path prefix of the reference's clean answers (a misbehaving fixture's /_clean)")
	lenient := flag.Bool("lenient", false, "an error status from the proxy is an answer too (a misbehaving upstream); 200s must still be byte-exact")
	flag.Parse()
	if *target == "" || *reference == "" {
		log.Fatal("-target and -reference are required")
	}

	paths, err := lines(*reference + "/_fixture/files")
	if err != nil {
		log.Fatal(err)
	}
	if *extra != "" {
		data, err := os.ReadFile(*extra)
		if err != nil {
			log.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line != "" {
				paths = append(paths, line)
			}
		}
	}
	rand.New(rand.NewSource(*seed)).Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })

	// What the reference answers, asked before the run (and concurrently), so
	// that the run measures the proxy under test only.
	expected := map[string]*result{}
	{
		referenceClient := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan string)
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for path := range work {
					r := fetch(context.Background(), referenceClient, *reference+*referencePrefix+path)
					if r.err != nil {
						log.Fatalf("the reference failed on %s: %v", path, r.err)
					}
					mu.Lock()
					expected[path] = r
					mu.Unlock()
				}
			}()
		}
		seen := map[string]bool{}
		for _, path := range paths {
			if !seen[path] {
				seen[path] = true
				work <- path
			}
		}
		close(work)
		wg.Wait()
	}

	transport := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients, DisableCompression: true}
	client := &http.Client{Transport: transport}
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()

	started := time.Now()
	var mu sync.Mutex
	s := summary{Statuses: map[string]int{}}
	next := 0
	take := func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if *duration == 0 && next >= len(paths) {
			return "", false
		}
		if *duration > 0 && time.Since(started) > *duration {
			return "", false
		}
		path := paths[next%len(paths)]
		next++
		return path, true
	}
	fail := func(format string, args ...interface{}) {
		if len(s.Failures) < 50 {
			s.Failures = append(s.Failures, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				path, ok := take()
				if !ok {
					return
				}
				requestCtx, cancelRequest := context.WithTimeout(ctx, *timeout)
				got := fetch(requestCtx, client, *target+path)
				cancelRequest()
				want := expected[path]
				mu.Lock()
				s.Requests++
				switch {
				case got.err != nil && errors.Is(got.err, context.DeadlineExceeded):
					s.Unanswered++
					fail("%s: no answer within %s", path, *timeout)
				case got.err != nil:
					s.Unanswered++
					fail("%s: %v", path, got.err)
				default:
					s.Answered++
					s.Statuses[strconv.Itoa(got.status)]++
					if *lenient && got.status != 200 {
						break
					}
					if got.status != want.status || !bytes.Equal(got.body, want.body) {
						s.Mismatched++
						fail("%s: got %d (%d bytes), the reference answers %d (%d bytes)", path, got.status, len(got.body), want.status, len(want.body))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Seconds = time.Since(started).Seconds()
	json.NewEncoder(os.Stdout).Encode(s)
}

func fetch(ctx context.Context, client *http.Client, url string) *result {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &result{err: err}
	}
	response, err := client.Do(request)
	if err != nil {
		return &result{err: err}
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return &result{err: err}
	}
	return &result{status: response.StatusCode, body: body}
}

func lines(url string) ([]string, error) {
	response, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out, nil
}
