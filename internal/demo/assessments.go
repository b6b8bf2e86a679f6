package demo

import (
	"context"
	"fmt"
	"time"

	"agtrace/internal/assess"
	"agtrace/internal/platform"
)

// assessStep computes the current month's performance assessments (绩效
// 考核) under the default sheets, as the monthly job does after a month's
// end: every level inside the nation and inside each province and
// prefecture with figures — the ministry analyst sees the provinces
// ranked, a provincial supervisor its prefectures and counties. Computing
// again replaces them, so loading the demo twice changes nothing.
func assessStep(ctx context.Context, l *Loader) error {
	month := time.Now().In(platform.ChinaTZ).Format("2006-01")
	if _, err := l.App.Assess.AssessAll(ctx, month, assess.OriginDemand); err != nil {
		return fmt.Errorf("demo assessments: %w", err)
	}
	return nil
}
