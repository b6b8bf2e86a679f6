package operator

import "testing"

func TestCleanFilename(t *testing.T) {
	cases := map[string]string{
		"营业执照.pdf":             "营业执照.pdf",
		`C:\Users\farm\执照.jpg`: "执照.jpg",
		"../../etc/passwd":     "passwd",
		"a\x00b.pdf":           "ab.pdf",
		"scan\x1b[31m.png":     "scan[31m.png",
		"photo\u202egpj.exe":   "photogpj.exe",
		"bad\xff\xfe.pdf":      "bad.pdf",
		"\x00":                 "",
		".":                    "",
		"x\u0085y.pdf":         "xy.pdf",
	}
	for in, want := range cases {
		if got := cleanFilename(in); got != want {
			t.Errorf("cleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
}
