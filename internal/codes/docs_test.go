package codes

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docs/coding-rules.md publishes test vectors; keep it in step with the code.
func TestCodingRulesDocument(t *testing.T) {
	raw, err := os.ReadFile("../../docs/coding-rules.md")
	if os.IsNotExist(err) {
		t.Skip("docs/coding-rules.md not found")
	}
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, v := range traceVectors {
		if !strings.Contains(doc, "`"+v.code+"`") || !strings.Contains(doc, "`"+FormatGrouped(v.code)+"`") {
			t.Errorf("trace vector %s missing from the document", v.code)
		}
	}
	for _, v := range operatorVectors {
		if !strings.Contains(doc, "`"+v.code+"`") || !strings.Contains(doc, "`"+FormatGrouped(v.code)+"`") {
			t.Errorf("operator vector %s missing from the document", v.code)
		}
	}
	// Every back-quoted 18- or 20-digit number (grouped or not) on a line
	// not marked ✗ must be a valid code of its kind; every one on a ✗ line
	// must be invalid as a trace code.
	num := regexp.MustCompile("`([0-9][0-9 ]{16,24}[0-9])`")
	n := 0
	for line := range strings.SplitSeq(doc, "\n") {
		for _, m := range num.FindAllStringSubmatch(line, -1) {
			c := NormalizeCode(m[1])
			var ok bool
			switch len(c) {
			case TraceCodeLen:
				ok = ValidTraceCode(c)
			case OperatorCodeLen:
				ok = ValidOperatorCode(c) || ValidateUSCC(c) == nil || ValidateResidentID(c, todayForDocs) == nil
			default:
				continue
			}
			n++
			bad := strings.Contains(line, "✗")
			if bad && len(c) == TraceCodeLen && ok {
				t.Errorf("document marks %s invalid but it parses", m[1])
			}
			if !bad && !ok {
				t.Errorf("document shows %s but it is not valid: %q", m[1], line)
			}
		}
	}
	if n < len(traceVectors)+len(operatorVectors) {
		t.Errorf("found only %d codes in the document", n)
	}
	for _, s := range []string{"1370102000000000001", "69435151530", "9144030071526726XG", "91330100799655058B", "914403001922038216", "91350100M000100Y43", "11010519491231002X", "1101**********002X"} {
		if !strings.Contains(doc, s) {
			t.Errorf("document lacks %s", s)
		}
	}
}

var todayForDocs = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
