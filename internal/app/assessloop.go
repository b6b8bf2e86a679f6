package app

import (
	"context"
	"fmt"
	"os"

	"agtrace/internal/assess"
)

// assessLoop tries the monthly assessment job every assess.Every (the
// first try one period after start); the job's lease and its record of
// finished months make one replica assess each month once.
func (a *App) assessLoop(ctx context.Context) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s:%d", host, os.Getpid())
	every(ctx, assess.Every, func() {
		rep, err := a.Assess.RunMonthly(ctx, holder, assess.Every)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("monthly assessment failed; retried next hour", "period", rep.Period, "err", err)
		case rep.Ran:
			a.Log.Info("monthly assessment", "period", rep.Period, "assessments", rep.Assessments, "ms", rep.Duration.Milliseconds())
		}
	})
}
