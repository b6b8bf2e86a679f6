package trace

import "testing"

// TestAreaCache: areas are remembered per code and interned (two codes of
// one county and product share one entry); a string too long to be a code
// is never remembered.
func TestAreaCache(t *testing.T) {
	var c areaCache
	if _, ok := c.get("13706860000000000016"); ok {
		t.Fatal("an empty cache knows a code")
	}
	a := codeArea{"370686", "apple"}
	c.put("13706860000000000016", a)
	c.put("13706860000000000024", a)
	c.put("13706860000000000032", codeArea{"370686", "tea"})
	for code, want := range map[string]codeArea{"13706860000000000016": a, "13706860000000000024": a, "13706860000000000032": {"370686", "tea"}} {
		if got, ok := c.get(code); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", code, got, ok, want)
		}
	}
	if len(c.areas) != 2 {
		t.Errorf("%d interned areas, want 2", len(c.areas))
	}
	long := "1370686000000000001613706860000000000016"
	c.put(long, a)
	if _, ok := c.get(long); ok {
		t.Error("a string longer than a code was remembered")
	}
}
