package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// warnings: evaluate the early-warning rules now (the job serve runs every
// hour) over the whole country, as the platform itself — docs/insight.md.
func warnings(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "evaluate" {
		return fmt.Errorf("usage: agtrace warnings evaluate [--data ./data] [--db URL]")
	}
	fs := newFlags("warnings", "warnings evaluate [--data ./data] [--db URL]")
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
	rep, err := a.Insight.EvaluateWarnings(platform.WithOrigin(ctx, auth.SystemOrigin("cli")), auth.System())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
