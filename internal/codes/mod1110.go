package codes

// Mod1110 computes the GB/T 17710 (ISO/IEC 7064) hybrid MOD 11,10 check
// digit of a string of ASCII digits and returns it as an ASCII digit
// ('0'..'9'), ready to be appended:
//
//	p = 10
//	for each digit d:  s = (p + d) mod 10; if s == 0 { s = 10 }; p = (2s) mod 11
//	check = (11 − p) mod 10
//
// Mod1110("1370102000000000001") == '9'.
func Mod1110(digits string) (byte, error) {
	if digits == "" {
		return 0, newErr(ErrLength, "待校验的数字串为空", "empty digit string")
	}
	if i, c := firstNonDigit(digits); i >= 0 {
		return 0, charsetErr("数字串", "digit string", i, c)
	}
	p := 10
	for i := 0; i < len(digits); i++ {
		s := (p + int(digits[i]-'0')) % 10
		if s == 0 {
			s = 10
		}
		p = (2 * s) % 11
	}
	return byte('0' + (11-p)%10), nil
}

// ValidMod1110 reports whether full (at least two ASCII digits) ends in the
// correct MOD 11,10 check digit of the digits before it.
func ValidMod1110(full string) bool {
	if len(full) < 2 {
		return false
	}
	c, err := Mod1110(full[:len(full)-1])
	return err == nil && c == full[len(full)-1]
}

func charsetErr(zhName, enName string, pos int, char string) *Error {
	return &Error{
		Code: ErrCharset.Code,
		ZH:   zhName + "第" + itoa(pos+1) + "位“" + char + "”不是允许的字符",
		EN:   enName + " has an invalid character " + quote(char) + " at position " + itoa(pos+1),
	}
}
