package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"agtrace/internal/app"
)

// stats: bring the dashboards' aggregates up to date (update, the same
// incremental job serve runs every minute) or recompute them from the raw
// records (rebuild) — docs/insight.md.
func stats(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "update") {
		return fmt.Errorf("usage: agtrace stats rebuild|update [--data ./data] [--db URL]")
	}
	fs := newFlags("stats", "stats rebuild|update [--data ./data] [--db URL]")
	var d dbFlags
	d.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	a, err := app.Open(ctx, d.config())
	if err != nil {
		return err
	}
	defer a.Close()
	run := a.Insight.Update
	if args[0] == "rebuild" {
		run = a.Insight.Rebuild
	}
	rep, err := run(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
