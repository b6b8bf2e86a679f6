package operator_test

import (
	"testing"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
)

func TestSamplesAreValid(t *testing.T) {
	for i := 0; i < 500; i++ {
		for _, k := range []string{"91", "92", "93"} {
			c := operator.SampleUSCC(k, "370686", i*7919)
			if err := codes.ValidateUSCC(c); err != nil {
				t.Fatalf("SampleUSCC(%s, %d) = %s: %v", k, i, c, err)
			}
		}
		id := operator.SampleResidentID("370686", "19800101", i)
		if err := codes.ValidateResidentID(id, time.Now()); err != nil {
			t.Fatalf("SampleResidentID %d = %s: %v", i, id, err)
		}
	}
}
