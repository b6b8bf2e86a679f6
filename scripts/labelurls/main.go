// Command labelurls prints the scan-page path of codes in a database, with
// each label's verification token, one per line (scripts/bench-public.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"

	"agtrace/internal/app"
)

func main() {
	data := flag.String("data", "./data", "data directory")
	db := flag.String("db", "", "PostgreSQL URL (empty: SQLite in --data)")
	limit := flag.Int("limit", 100000, "at most this many codes")
	flag.Parse()
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: *data, DBURL: *db})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	rows, err := a.DB.Query(ctx, `SELECT code FROM trace_codes ORDER BY code LIMIT $1`, *limit)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	w := os.Stdout
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(w, "/q/%s?v=%s\n", code, url.QueryEscape(a.Trace.Token(code)))
	}
}
