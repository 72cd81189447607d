package http1

import (
	"encoding/binary"
	"math/bits"
)

// Byte classes, one table each, indexed by byte.
var (
	// tokenChar: RFC 9110 tchar, the bytes of methods, field names and
	// transfer codings.
	tokenChar = table(func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			contains("!#$%&'*+-.^_`|~", c)
	})
	// targetChar: the bytes a request-target may hold. We refuse controls,
	// SP, DEL, bytes >= 0x80 and '#' (a fragment is never sent); the form
	// of the target is checked separately.
	targetChar = table(func(c byte) bool { return 0x21 <= c && c <= 0x7e && c != '#' })
	// valueChar: field-vchar, SP and HTAB (RFC 9110 §5.5), obs-text included;
	// no CR, LF, NUL, other controls or DEL.
	valueChar = table(func(c byte) bool { return c == '\t' || 0x20 <= c && c != 0x7f })
	// hostChar: the bytes of a reg-name host (RFC 3986 unreserved and
	// sub-delims) but ',' — a Host value with a comma is what two Host
	// fields look like once a proxy has joined them — and '%', which needs
	// two hex digits after it.
	hostChar = table(func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			contains("-._~!$&'()*+;=", c)
	})
	// qdText: the bytes of a quoted-string other than '"' and '\' (RFC 9110
	// §5.6.4), obs-text included.
	qdText = table(func(c byte) bool {
		return c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c != 0x7f
	})
	// quotedPair: the bytes that may follow '\' in a quoted-string.
	quotedPair = table(func(c byte) bool { return c == '\t' || 0x20 <= c && c != 0x7f })
)

// unhex maps a hex digit to its value and every other byte to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case '0' <= c && c <= '9':
			t[i] = c - '0'
		case 'a' <= c && c <= 'f':
			t[i] = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			t[i] = c - 'A' + 10
		default:
			t[i] = 0xff
		}
	}
	return t
}()

func table(in func(c byte) bool) (t [256]bool) {
	for i := range t {
		t[i] = in(byte(i))
	}
	return t
}

func contains(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// equalFold reports whether b equals s without regard to ASCII case. s
// must be made of lower-case letters and bytes from 0x20 to 0x3f (digits,
// '-', ':', '/'); b must hold no control bytes, which is true of every
// target, field name and value the scanner let through. Then
// b[i]|0x20 == s[i] exactly when b[i] is s[i] in either case: the only
// other byte that could match, s[i]-0x20 for a non-letter, is a control.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b) | lsb*0x20
		y := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if x != y {
			return false
		}
		b, s = b[8:], s[8:]
	}
	for i := range b {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// trimOWS returns b without leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// Eight bytes at a time: the loops over targets and field values, where
// most bytes of a head are, test a whole little-endian word with the bit
// tricks of "Bit Twiddling Hacks" (hasless, haszero). Each returns a mask
// with the high bit set in every byte that may be of interest; the lowest
// set byte always is one (a borrow can only flag bytes above a true one),
// so bits.TrailingZeros64(m)/8 is the index of the first byte to look at.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// notValue flags the bytes of x that are not field-vchar or SP: controls
// (HTAB included, which the caller lets through) and DEL.
func notValue(x uint64) uint64 {
	d := x ^ lsb*0x7f
	return ((x-lsb*0x20)&^x | (d-lsb)&^d) & msb
}

// notTarget flags the bytes of x that are not targetChar: below 0x21,
// from 0x80, DEL and '#'.
func notTarget(x uint64) uint64 {
	d, h := x^lsb*0x7f, x^lsb*'#'
	return ((x-lsb*0x21)&^x | x | (d-lsb)&^d | (h-lsb)&^h) & msb
}

// tokenLen returns the length of the run of tokenChar at the start of b.
func tokenLen(b []byte) int {
	for i, c := range b {
		if !tokenChar[c] {
			return i
		}
	}
	return len(b)
}

// valueLen returns the length of the run of valueChar at the start of b.
func valueLen(b []byte) int {
	i := 0
	for i+8 <= len(b) {
		m := notValue(binary.LittleEndian.Uint64(b[i:]))
		if m == 0 {
			i += 8
			continue
		}
		if i += bits.TrailingZeros64(m) >> 3; !valueChar[b[i]] {
			return i
		}
		i++ // HTAB
	}
	for ; i < len(b); i++ {
		if !valueChar[b[i]] {
			return i
		}
	}
	return len(b)
}

// targetLen returns the length of the run of targetChar at the start of b.
func targetLen(b []byte) int {
	i := 0
	for i+8 <= len(b) {
		m := notTarget(binary.LittleEndian.Uint64(b[i:]))
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if !targetChar[b[i]] {
			return i
		}
	}
	return len(b)
}

// hostLen returns the length of the run of hostChar at the start of b.
func hostLen(b []byte) int {
	for i, c := range b {
		if !hostChar[c] {
			return i
		}
	}
	return len(b)
}
