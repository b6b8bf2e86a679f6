package operator

import (
	"fmt"
	"strings"

	"agtrace/internal/codes"
)

// SampleUSCC builds a well-formed unified social credit code (both GB 32100
// and GB 11714 checks pass) for demos and tests: kind "91" enterprise, "92"
// individual business, "93" cooperative; region a 6-digit code; serial
// distinguishes codes. It is not a real organisation's code.
func SampleUSCC(kind, region string, serial int) string {
	org := fmt.Sprintf("M%07d", serial%10_000_000) // 8 chars; 'M' keeps sample codes apart from real numeric ones
	sum := 0
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	for i := 0; i < 8; i++ {
		ch := org[i]
		v := int(ch - '0')
		if ch >= 'A' {
			v = int(ch-'A') + 10
		}
		sum += v * weights[i]
	}
	var oc byte
	switch r := 11 - sum%11; r {
	case 10:
		oc = 'X'
	case 11:
		oc = '0'
	default:
		oc = byte('0' + r)
	}
	body := kind + region + org + string(oc)
	w := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum = 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(codes.USCCAlphabet, body[i]) * w[i]
	}
	return body + string(codes.USCCAlphabet[(31-sum%31)%31])
}

// SampleResidentID builds a well-formed resident ID number (GB 11643 check)
// for demos and tests: region 6 digits, birth YYYYMMDD, seq 0–999.
func SampleResidentID(region, birth string, seq int) string {
	body := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * w[i]
	}
	return body + string("10X98765432"[sum%11])
}
