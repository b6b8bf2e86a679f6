package ui

import (
	"html"
	"testing"

	"agtrace/internal/trace"
)

// TestScanWords: the scan count built from the split message reads exactly
// as the catalogue's message formatted with fmt, in both languages.
func TestScanWords(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		if _, ok := scanWordParts()[lang]; !ok {
			t.Fatalf("%s: tr.public.scans was not split", lang)
		}
		for _, st := range []trace.ScanStats{{Count: 0, FirstAt: "2026-12-01"}, {Count: 1, FirstAt: "2026-01-31"}, {Count: 9_876_543_210, FirstAt: "<b>&"}} {
			want := html.EscapeString(translate(lang, "tr.public.scans", st.Count, st.FirstAt))
			if got := string(scanWords(lang, st)); got != want {
				t.Errorf("%s %+v: %q, want %q", lang, st, got, want)
			}
		}
		if got, want := string(scanWords(lang, trace.ScanStats{})), html.EscapeString(translate(lang, "tr.public.scans.first")); got != want {
			t.Errorf("%s first scan: %q, want %q", lang, got, want)
		}
	}
}
