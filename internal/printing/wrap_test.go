package printing

import (
	"os"
	"strings"
	"testing"
	"unicode"
)

func newTestPDF(t *testing.T, pt float64) *pdf {
	t.Helper()
	needFont(t)
	p, err := newPDF("test")
	if err != nil {
		t.Fatal(err)
	}
	p.page(210, 297)
	p.font(pt)
	return p
}

func TestWrap(t *testing.T) {
	p := newTestPDF(t, 10.5)
	agreement, err := os.ReadFile("testdata/agreement.txt")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		string(agreement),
		"乙方使用 API 或 Excel 批量导入数据的，应当保证数据与纸质记录一致，The operator remains responsible for data imported through third-party software.",
		"“生产有记录、信息可查询、流向可跟踪、责任可追究、产品可召回、质量有保障”，（一）甲方负责审核乙方提交的注册信息。",
		"Supercalifragilisticexpialidocious" + strings.Repeat("x", 80) + " short words after it",
		strings.Repeat("，", 40),
		"",
	}
	for _, w := range []float64{20, 45.5, 80, 166} {
		for _, text := range texts {
			for _, para := range strings.Split(text, "\n") {
				lines := p.wrap(para, w)
				if len(lines) == 0 {
					t.Fatalf("no lines for %q", para)
				}
				for i, ln := range lines {
					if lw := p.width(ln); lw > w+1e-6 && len([]rune(ln)) > 1 {
						t.Errorf("w=%v: line %q is %.2f mm wide", w, ln, lw)
					}
					if ln != strings.TrimSpace(ln) {
						t.Errorf("w=%v: line %q has leading/trailing space", w, ln)
					}
					if i > 0 && strings.ContainsRune(noStart, firstRune(ln)) && !allRunesIn(lines[i-1], noStart) && len([]rune(lines[i-1])) > 1 {
						t.Errorf("w=%v: line starts with closing punctuation: %q (previous %q)", w, ln, lines[i-1])
					}
					if i < len(lines)-1 && strings.ContainsRune(noEnd, lastRune(ln)) && len([]rune(ln)) > 1 {
						t.Errorf("w=%v: line ends with an opening bracket: %q", w, ln)
					}
				}
				// Nothing lost: the lines are the paragraph minus the
				// spaces at the breaks.
				if got, want := stripSpace(strings.Join(lines, "")), stripSpace(para); got != want {
					t.Errorf("w=%v: text changed by wrapping:\n got %q\nwant %q", w, got, want)
				}
				// Latin words that fit a line are never split.
				for _, word := range strings.FieldsFunc(para, func(r rune) bool { return unicode.IsSpace(r) || isCJK(r) }) {
					if p.width(word) > w {
						continue
					}
					found := false
					for _, ln := range lines {
						if strings.Contains(ln, word) {
							found = true
							break
						}
					}
					if !found {
						t.Errorf("w=%v: word %q split across lines: %q", w, word, lines)
					}
				}
			}
		}
	}
}

func allRunesIn(s, set string) bool {
	for _, r := range s {
		if !strings.ContainsRune(set, r) {
			return false
		}
	}
	return true
}

func TestWrapLatinBreaksAtSpaces(t *testing.T) {
	p := newTestPDF(t, 10)
	lines := p.wrap("alpha beta gamma delta epsilon zeta eta theta", p.width("alpha beta gamma")+0.1)
	want := []string{"alpha beta gamma", "delta epsilon zeta", "eta theta"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", lines, want)
	}
}

func TestWrapKinsoku(t *testing.T) {
	p := newTestPDF(t, 10)
	// Width for exactly four ideographs: the comma must not start line 2,
	// so "四" moves down with it.
	w := p.width("一二三四") + 0.01
	lines := p.wrap("一二三四，五六七", w)
	if lines[1][0:len("四")] != "四" {
		t.Fatalf("got %q: closing punctuation moved to a line start", lines)
	}
	// An opening bracket does not end a line.
	lines = p.wrap("一二三（四五六）", w)
	if strings.HasSuffix(lines[0], "（") {
		t.Fatalf("got %q: line ends with an opening bracket", lines)
	}
}

func TestFitBlockTruncates(t *testing.T) {
	p := newTestPDF(t, 10)
	long := strings.Repeat("山东烟台栖霞特级红富士苹果", 10)
	lines := p.fitBlock(long, 30, 2, 10, 6)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	if p.pt != 6 {
		t.Errorf("size %v, want the minimum 6", p.pt)
	}
	if !strings.HasSuffix(lines[1], "…") {
		t.Errorf("last line %q does not end with …", lines[1])
	}
	for _, ln := range lines {
		if p.width(ln) > 30 {
			t.Errorf("line %q overflows", ln)
		}
	}
	// A short text keeps the largest size on one line.
	lines = p.fitBlock("苹果", 30, 2, 10, 6)
	if len(lines) != 1 || p.pt != 10 {
		t.Errorf("got %q at %vpt, want one line at 10pt", lines, p.pt)
	}
}
