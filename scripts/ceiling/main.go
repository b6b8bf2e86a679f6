// Command ceiling serves a fixed 1 KB page with a bare net/http handler:
// the ceiling the public scan page is measured against (scripts/bench-public.sh).
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	page := []byte("<!doctype html><title>ceiling</title><p>" + strings.Repeat("x", 1024-40) + "</p>")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
