// Command probe sends one scan-page request every 10 ms (paths read from
// standard input, each from another shopper's address) for --secs seconds
// and prints, per wall-clock second, how many answered and their median and
// slowest latency. Run beside a load (scripts/bench-public.sh PROBE=FILE),
// it shows when the tail happens, to be matched with the server's
// background work (a fold, the dashboards' job) in its log.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18080", "the server")
	secs := flag.Int("secs", 30, "how long to probe")
	flag.Parse()
	var paths []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		paths = append(paths, sc.Text())
	}
	if len(paths) == 0 {
		log.Fatal("probe: no paths on standard input")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var sec int64 = -1
	var lat []float64
	var failed int
	flush := func() {
		if len(lat) > 0 || failed > 0 {
			slices.Sort(lat)
			p50, top := 0.0, 0.0
			if len(lat) > 0 {
				p50, top = lat[len(lat)/2], lat[len(lat)-1]
			}
			fmt.Printf("%s ok=%d failed=%d p50=%.1fms max=%.1fms\n", time.Unix(sec, 0).UTC().Format("15:04:05"), len(lat), failed, p50, top)
		}
		lat, failed = lat[:0], 0
	}
	end := time.Now().Add(time.Duration(*secs) * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		if now.After(end) {
			break
		}
		if now.Unix() != sec {
			flush()
			sec = now.Unix()
		}
		req, err := http.NewRequest(http.MethodGet, *url+paths[rand.IntN(len(paths))], nil)
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), 1+rand.IntN(254)))
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			failed++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
			continue
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
	}
	flush()
}
