package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"agtrace/internal/app"
	"agtrace/internal/ledger"
)

// errTampered makes verify exit non-zero after printing its report.
var errTampered = errors.New("the ledger does not match the database (see the report above)")

func verify(ctx context.Context, args []string) error {
	fs := newFlags("verify", "verify [--data ./data] [--db URL] [--checkpoint FILE] [--json]")
	var d dbFlags
	d.register(fs)
	cpFile := fs.String("checkpoint", "", "a checkpoint saved earlier (the JSON of GET /ledger/checkpoint): the log must still extend it")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var cp *ledger.Checkpoint
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile)
		if err != nil {
			return err
		}
		cp = new(ledger.Checkpoint)
		if err := json.Unmarshal(b, cp); err != nil || cp.RootHash == "" {
			return fmt.Errorf("%s is not a checkpoint (want the JSON of GET /ledger/checkpoint): %v", *cpFile, err)
		}
	}
	a, err := app.Open(ctx, d.config())
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.Ledger.Verify(ctx, cp)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Printf("ledger (%s): %d leaves, root %s; %d subject states and %d checkpoints checked\n", rep.Algorithm, rep.Leaves, rep.Root, rep.States, rep.Checkpoints)
		for _, p := range rep.Problems {
			fmt.Println("  PROBLEM " + p.String())
		}
		if rep.OK() {
			fmt.Println("OK: every record matches its leaf, no leaf is missing, every checkpoint is consistent")
		}
	}
	if !rep.OK() {
		return errTampered
	}
	return nil
}
