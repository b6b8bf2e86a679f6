package trace

import (
	"strings"
)

// What a public view records besides the code and the time: a coarse class
// of client, from the User-Agent, and the province the viewer chose to
// share (the scan page's optional form). The address is never stored — not
// in clear, not hashed — so the statistics identify no one.

// ScanView describes one public view.
type ScanView struct {
	Client string // one of the Client* classes
	Region string // a province code (XX0000) the viewer shared, or ""
}

// Client classes.
const (
	ClientWeChat  = "wechat"  // WeChat's in-app browser (the usual way to scan in China)
	ClientAlipay  = "alipay"  // Alipay's scanner
	ClientMobile  = "mobile"  // another phone browser
	ClientDesktop = "desktop" // a desktop browser (a typed code)
	ClientTool    = "tool"    // scripts, crawlers, monitors (curl, bots, HTTP libraries)
	ClientOther   = "other"
)

// ClientClasses lists the classes in display order.
var ClientClasses = []string{ClientWeChat, ClientAlipay, ClientMobile, ClientDesktop, ClientTool, ClientOther}

var toolMarks = []string{"bot", "spider", "crawl", "curl", "wget", "python", "go-http-client", "java/", "okhttp", "wrk", "httpclient", "headless", "monitor"}

// ClientClass classifies a User-Agent coarsely.
func ClientClass(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.Contains(ua, "micromessenger"):
		return ClientWeChat
	case strings.Contains(ua, "alipayclient"):
		return ClientAlipay
	}
	for _, m := range toolMarks {
		if strings.Contains(ua, m) {
			return ClientTool
		}
	}
	switch {
	case strings.Contains(ua, "mobile"), strings.Contains(ua, "android"), strings.Contains(ua, "iphone"), strings.Contains(ua, "ipad"):
		return ClientMobile
	case strings.HasPrefix(ua, "mozilla/"):
		return ClientDesktop
	}
	return ClientOther
}

// provinces are the GB/T 2260 province-level prefixes.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, "50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true, "71": true, "81": true, "82": true,
}

// SharedProvince reduces a region code a viewer shared (2 or 6 digits) to
// its province (XX0000); anything else is "" (ignored, never an error: the
// page must show whatever was typed into the query string).
func SharedProvince(code string) string {
	if (len(code) != 2 && len(code) != 6) || !provinces[code[:2]] {
		return ""
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return code[:2] + "0000"
}

// MacroRegion is a region code's major region, its first digit (GB/T 2260:
// 1 North, 2 North-east, 3 East, 4 Central-South, 5 South-west,
// 6 North-west, 7 Taiwan, 8 Hong Kong and Macao): regions in different
// major regions are hundreds of kilometres apart.
func MacroRegion(code string) string {
	if code == "" {
		return ""
	}
	return code[:1]
}
