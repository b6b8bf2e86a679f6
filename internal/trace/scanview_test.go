package trace

import "testing"

func TestClientClass(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN", ClientWeChat},
		{"Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/98.0.4758.101 Mobile Safari/537.36 AlipayClient/10.5.96.8000 Language/zh-Hans", ClientAlipay},
		{"Mozilla/5.0 (Linux; Android 12; M2012K11AC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", ClientMobile},
		{"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/604.1", ClientMobile},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", ClientDesktop},
		{"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", ClientTool},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36", ClientTool},
		{"curl/8.5.0", ClientTool},
		{"Go-http-client/1.1", ClientTool},
		{"python-requests/2.31", ClientTool},
		{"wrk", ClientTool},
		{"", ClientOther},
		{"SomethingElse/1.0", ClientOther},
	} {
		if got := ClientClass(c.ua); got != c.want {
			t.Errorf("ClientClass(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

func TestSharedProvince(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"37", "370000"}, {"370686", "370000"}, {"440981", "440000"}, {"110000", "110000"}, {"81", "810000"},
		{"", ""}, {"3", ""}, {"370", ""}, {"99", ""}, {"990000", ""}, {"00", ""}, {"3706861", ""}, {"37068x", ""},
		{"<script>", ""}, {"37\u0660\u0660\u0660\u0660", ""}, {"' OR 1=1", ""},
	} {
		if got := SharedProvince(c.in); got != c.want {
			t.Errorf("SharedProvince(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if MacroRegion("370000") != "3" || MacroRegion("440000") != "4" || MacroRegion("") != "" {
		t.Fatal("MacroRegion")
	}
}

func TestScanUnits(t *testing.T) {
	for _, c := range []struct {
		unit  string
		milli int64
		want  float64
	}{
		{"box", 200_000, 200}, {"head", 5_000, MinScanUnits}, {"kg", 1_500_000, 1500}, {"t", 2_500, 2500}, {"L", 30_000, 30}, {"kg", 500, MinScanUnits},
	} {
		if got := scanUnits(c.unit, c.milli); got != c.want {
			t.Errorf("scanUnits(%s, %d) = %v, want %v", c.unit, c.milli, got, c.want)
		}
	}
}

func TestOverUnitsKey(t *testing.T) {
	// the key changes only when the views per unit double past the threshold
	for _, c := range []struct {
		value, threshold float64
		want             string
	}{
		{5, 5, "C:0"}, {9.9, 5, "C:0"}, {10, 5, "C:1"}, {19, 5, "C:1"}, {20, 5, "C:2"}, {3, 0, "C:1"},
	} {
		if got := OverUnitsKey("C", c.value, c.threshold); got != c.want {
			t.Errorf("OverUnitsKey(%v, %v) = %q, want %q", c.value, c.threshold, got, c.want)
		}
	}
}
