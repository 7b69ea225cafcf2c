// fixed-requests sends exactly N GET requests for the paths listed in a file,
// in turn, over C keep-alive connections, and fails on any answer but 200.
// bench/run instructions uses it: a fixed amount of work, where wrk runs for
// a fixed time.
//
//	fixed-requests 127.0.0.1:7179 paths.txt 9000 8
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: fixed-requests HOST:PORT PATHS-FILE REQUESTS CONNECTIONS")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	paths := strings.Fields(string(data))
	requests, _ := strconv.Atoi(os.Args[3])
	connections, _ := strconv.Atoi(os.Args[4])
	if len(paths) == 0 || requests <= 0 || connections <= 0 || requests%connections != 0 {
		fail(fmt.Errorf("need paths, and a number of requests that is a multiple of the connections"))
	}
	perConnection := requests / connections
	var wg sync.WaitGroup
	for c := 0; c < connections; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", os.Args[1])
			if err != nil {
				fail(err)
			}
			defer conn.Close()
			reader := bufio.NewReader(conn)
			for i := 0; i < perConnection; i++ {
				path := paths[(c*perConnection+i)%len(paths)]
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path)
				response, err := http.ReadResponse(reader, nil)
				if err != nil {
					fail(err)
				}
				io.Copy(io.Discard, response.Body)
				response.Body.Close()
				if response.StatusCode != 200 {
					fail(fmt.Errorf("%s: %s", path, response.Status))
				}
			}
		}(c)
	}
	wg.Wait()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fixed-requests:", err)
	os.Exit(1)
}
