package printing

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Agreement is the content of a traceability agreement (追溯协议) between a
// county agriculture department and an operator (annex art. 10).
type Agreement struct {
	Title           string    // optional title; default "农产品质量安全追溯协议"
	Number          string    // optional agreement number
	TemplateVersion string    // version of the agreement template, e.g. "2026.1"
	Department      string    // county agriculture department (甲方)
	OperatorName    string    // operator name (乙方)
	OperatorCode    string    // operator's 18-digit code
	Text            string    // full agreement text; each line is a paragraph, blank lines add space
	SignedAt        time.Time // signing time; zero means not signed
	SM3Hash         string    // SM3 digest of the signed text, 64 hex digits; required when signed, optional otherwise
	SM2Signature    string    // SM2 signature, standard base64; required when signed, must be empty otherwise
}

const defaultAgreementTitle = "农产品质量安全追溯协议"

func (a *Agreement) validate() error {
	v := validator{fn: "AgreementPDF"}
	v.required("TemplateVersion", a.TemplateVersion)
	v.required("Department", a.Department)
	v.required("OperatorName", a.OperatorName)
	v.operatorCode("OperatorCode", a.OperatorCode)
	v.required("Text", a.Text)
	if a.SM3Hash != "" {
		if b, err := hex.DecodeString(a.SM3Hash); err != nil || len(b) != 32 {
			v.fail("SM3Hash", "must be 64 hex digits, got %q", a.SM3Hash)
		}
	}
	if a.SignedAt.IsZero() {
		if a.SM2Signature != "" {
			v.fail("SM2Signature", "is set but SignedAt is empty")
		}
	} else {
		v.required("SM3Hash", a.SM3Hash)
		if v.required("SM2Signature", a.SM2Signature) {
			if _, err := base64.StdEncoding.DecodeString(a.SM2Signature); err != nil {
				v.fail("SM2Signature", "is not valid base64: %v", err)
			}
		}
	}
	return v.err
}

var headingRE = regexp.MustCompile(`^(第[一二三四五六七八九十百零〇0-9]+[章条节]|[一二三四五六七八九十]+、)`)

// isHeading recognises short article headings such as "第一条 协议目的".
func isHeading(para string) bool {
	return headingRE.MatchString(para) && utf8.RuneCountInString(para) <= 24 &&
		!strings.ContainsAny(para, "。；，：")
}

// A4 geometry of the agreement.
const (
	agW, agH     = 210.0, 297.0
	agMarginX    = 22.0
	agTop        = 22.0
	agBottom     = 22.0 // space kept for the footer
	agBodyPt     = 10.5
	agBodyLead   = 1.75
	agParaSpace  = 0.45 // extra space after a paragraph, in lines
	agFooterBase = agH - 12.0
)

// AgreementPDF writes a traceability agreement on A4 pages: title, parties,
// the full text wrapped across pages, and the signature block (signing
// time, SM3 digest, SM2 signature) or "未签署 Not signed".
func AgreementPDF(w io.Writer, a Agreement) error {
	if err := a.validate(); err != nil {
		return err
	}
	title := a.Title
	if strings.TrimSpace(title) == "" {
		title = defaultAgreementTitle
	}
	p, err := newPDF(title)
	if err != nil {
		return err
	}
	cw := agW - 2*agMarginX
	x := agMarginX
	p.page(agW, agH)
	y := agreementHead(p, a, title, x, cw)
	y = agreementBody(p, a.Text, x, cw, y)
	agreementSignature(p, a, x, cw, y)
	agreementFooters(p, a, title, x, cw)
	return p.finish(w)
}

// agreementNewPage starts a body page and returns where text begins.
func agreementNewPage(p *pdf) float64 {
	p.page(agW, agH)
	p.font(agBodyPt)
	p.textColor(black)
	return agTop
}

// agreementHead draws the title, the template version and the parties, and
// returns where the body begins.
func agreementHead(p *pdf, a Agreement, title string, x, cw float64) float64 {
	p.font(18)
	p.textColor(black)
	for i, ln := range p.fitBlock(title, cw, 2, 18, 12) {
		p.textIn(x, 20+float64(i)*p.em()*1.3, cw, ln, alignCenter)
	}
	y := 20 + p.em()*1.3*float64(len(p.wrap(title, cw))) + 2
	p.font(8.5)
	p.textColor(grey)
	sub := "协议模板版本 " + a.TemplateVersion
	if a.Number != "" {
		sub = "协议编号 " + a.Number + "　　" + sub
	}
	p.textIn(x, y, cw, p.truncate(sub, cw), alignCenter)
	y += p.em() + 4
	p.line(x, y, x+cw, y, 0.5, green)
	y += 1
	y = p.fields(x, y, cw, formStyle{
		labelW: 42, labelPt: 9.5, valuePt: 10.5, minPt: 8, vpad: 1.4,
		rules: true, labelCol: grey,
	}, []field{
		{label: "甲方（县级农业农村部门）", value: a.Department, maxLines: 2},
		{label: "乙方（生产经营主体）", value: a.OperatorName, maxLines: 2},
		{label: "乙方主体身份码", value: GroupDigits(a.OperatorCode)},
	})
	return y + 7
}

// agreementBody sets the agreement's text from y on, over as many pages as
// it takes (article headings kept with two lines of what follows), and
// returns where it ended.
func agreementBody(p *pdf, text string, x, cw, y float64) float64 {
	p.font(agBodyPt)
	p.textColor(black)
	lh := p.em() * agBodyLead
	bottom := agH - agBottom
	indent := 2 * p.width("中")
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		para = strings.TrimRight(para, " \t　")
		if strings.TrimSpace(para) == "" {
			y += lh * 0.5
			continue
		}
		para = strings.TrimLeft(para, " \t　")
		if isHeading(para) {
			// Article heading: flush left, a little larger, kept with the
			// first two lines of what follows.
			y += lh * 0.3
			p.font(agBodyPt + 0.5)
			hl := p.wrapPara(para, cw, cw)
			if y+float64(len(hl)+2)*lh > bottom {
				y = agreementNewPage(p)
				p.font(agBodyPt + 0.5)
			}
			p.textColor(green)
			for _, ln := range hl {
				p.text(x, y+(lh-p.em())/2, ln)
				y += lh
			}
			p.font(agBodyPt)
			p.textColor(black)
			continue
		}
		for i, ln := range p.wrapPara(para, cw-indent, cw) {
			if y+lh > bottom {
				y = agreementNewPage(p)
			}
			lx := x
			if i == 0 {
				lx += indent
			}
			p.text(lx, y+(lh-p.em())/2, ln)
			y += lh
		}
		y += lh * agParaSpace
	}
	return y
}

// agreementSignature draws the signature block (kept together on one page)
// and the parties' seal and signature lines for the paper copy.
func agreementSignature(p *pdf, a Agreement, x, cw, y float64) {
	y += 4
	sigRows := []field{}
	if a.SignedAt.IsZero() {
		if a.SM3Hash != "" {
			sigRows = append(sigRows, field{label: "文本摘要（SM3）", value: strings.ToLower(a.SM3Hash), maxLines: 2})
		}
	} else {
		sigRows = append(sigRows,
			field{label: "签署时间", value: a.SignedAt.Format("2006-01-02 15:04:05 -07:00")},
			field{label: "文本摘要（SM3）", value: strings.ToLower(a.SM3Hash), maxLines: 2},
			field{label: "电子签名（SM2）", value: a.SM2Signature, maxLines: 8},
		)
	}
	sigStyle := formStyle{labelW: 32, labelPt: 9, valuePt: 9, minPt: 7, vpad: 1.2, rules: true, labelCol: grey}
	_, sigH := p.layoutFields(cw, sigStyle, sigRows)
	p.font(11)
	need := p.em() + 3 + sigH + 10 + 22
	if y+need > agH-agBottom {
		y = agreementNewPage(p)
	}
	p.font(11)
	p.textColor(green)
	p.rect(x, y+0.5, 1.2, p.em()*0.95, green)
	p.text(x+3, y, "签署信息 Signature")
	y += p.em() + 2
	p.line(x, y, x+cw, y, 0.3, green)
	if a.SignedAt.IsZero() {
		p.font(12)
		p.textColor(titleRed)
		p.text(x, y+2.5, "未签署 Not signed")
		y += 2.5 + p.em() + 2
		p.line(x, y, x+cw, y, 0.1, rule)
	}
	y = p.fields(x, y, cw, sigStyle, sigRows)

	// Parties' seals and signatures for the paper copy.
	y += 10
	half := cw / 2
	p.font(10)
	p.textColor(black)
	p.text(x, y, "甲方（盖章）：")
	p.text(x+half, y, "乙方（签字或盖章）：")
	y += p.em() + 10
	p.font(9.5)
	p.textColor(grey)
	date := "日期：　　　　年　　月　　日"
	if !a.SignedAt.IsZero() {
		date = "日期：" + formatDateCN(a.SignedAt)
	}
	p.text(x, y, date)
	p.text(x+half, y, date)
}

// agreementFooters writes every page's footer, now that the page count is known.
func agreementFooters(p *pdf, a Agreement, title string, x, cw float64) {
	n := p.gp.GetNumberOfPages()
	for i := 1; i <= n; i++ {
		p.setErr(p.gp.SetPage(i))
		p.font(8)
		p.textColor(light)
		p.line(x, agFooterBase-3, x+cw, agFooterBase-3, 0.1, rule)
		left := p.truncate(title+"（模板 "+a.TemplateVersion+"）", cw/2-15)
		p.text(x, agFooterBase, left)
		p.textIn(x, agFooterBase, cw, fmt.Sprintf("第 %d 页 / 共 %d 页", i, n), alignCenter)
		p.textIn(x, agFooterBase, cw, "乙方 "+GroupDigits(a.OperatorCode), alignRight)
	}
}
