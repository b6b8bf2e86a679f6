package ui

import (
	"math"
	"net/url"
	"strconv"
	"strings"
)

// formNumber parses an optional numeric form field: nil when empty, NaN
// when it holds something other than a number ("很多"), so the service
// refuses the field by name instead of the value being silently dropped.
func formNumber(f url.Values, key string) *float64 {
	s := strings.TrimSpace(f.Get(key))
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		v = math.NaN()
	}
	return &v
}
