package handlers

import "unicode/utf8"

// appendJSONString appends s to dst as a JSON string literal, quotes
// included. Valid UTF-8 is copied as is; '"' and '\\' are escaped, control
// characters (U+0000–U+001F, U+007F) use \n, \r, \t, \b, \f or \u00XX, and
// U+2028 and U+2029 are escaped for JavaScript's sake. A byte that is not
// part of valid UTF-8 becomes \u00XX with its own value: it is read as
// Latin-1, the historical charset of HTTP's obs-text, so that no byte is
// lost (a valid "é" is copied, the lone byte 0xE9 is written \u00e9).
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is yet to be copied
	for i := 0; i < len(s); {
		for i < len(s) && jsonSafe[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			default:
				dst = appendEscape(dst, c)
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = appendEscape(dst, c)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape appends \u00XX for c.
func appendEscape(dst []byte, c byte) []byte {
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

const hexDigits = "0123456789abcdef"

// jsonSafe holds the ASCII bytes that a JSON string may hold unescaped (we
// escape DEL too); bytes from 0x80 on are looked at as UTF-8.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSONString appends s to dst as a JSON string literal, escaped as
// the /echo built-in escapes (see [RegisterBuiltins]). It does not
// allocate beyond growing dst.
func AppendJSONString(dst, s []byte) []byte { return appendJSONString(dst, s) }
