// Command warm views every scan-page path read from standard input once,
// with --conns requests in flight, and prints how many answered 200 and
// how fast (scripts/bench-public.sh: the first views of a warm-up pass,
// which build, store and keep each page).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18080", "the server's origin")
	conns := flag.Int("conns", 16, "requests in flight")
	flag.Parse()
	var paths []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if p := sc.Text(); p != "" {
			paths = append(paths, p)
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns}}
	var next, ok, failed atomic.Int64
	var mu sync.Mutex
	why := map[string]int{} // failures by status or error
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(paths)) {
					return
				}
				req, _ := http.NewRequest("GET", *base+paths[i], nil)
				// each view from its own shopper's address (the server trusts the loopback proxy)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w, i>>8&255, i&255|1))
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					why[err.Error()]++
					mu.Unlock()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					failed.Add(1)
					mu.Lock()
					why[resp.Status]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("warm-up: %d pages viewed once in %.0f s (%.0f views/s), %d failed\n", ok.Load(), took.Seconds(), float64(ok.Load())/took.Seconds(), failed.Load())
	for k, n := range why {
		fmt.Printf("  %d × %s\n", n, k)
	}
	if failed.Load()*100 > int64(len(paths)) { // more than 1 %: not a warm server
		os.Exit(1)
	}
}
