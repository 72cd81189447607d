package codec

import (
	"errors"
	"fmt"
)

// ErrIncomplete reports that the input ends inside a frame: more bytes are
// needed. It is flow control, not a failure, and is returned unwrapped, like
// io.EOF, so callers may compare with ==.
var ErrIncomplete = errors.New("codec: incomplete frame")

// SyntaxError describes malformed input.
type SyntaxError struct {
	Offset int    // offset of the offending byte from the start of the frame
	Msg    string // what is wrong
	Near   string // a short quote of the input around Offset, for logs
}

func (e *SyntaxError) Error() string {
	if e.Near == "" {
		return fmt.Sprintf("codec: %s at offset %d", e.Msg, e.Offset)
	}
	return fmt.Sprintf("codec: %s at offset %d near %q", e.Msg, e.Offset, e.Near)
}

// Quote returns at most 16 bytes of b around off, for [SyntaxError.Near].
func Quote(b []byte, off int) string {
	lo, hi := max(off-8, 0), min(off+8, len(b))
	if lo > hi {
		return ""
	}
	return string(b[lo:hi])
}

// MaxQuoted is how many bytes of a peer's name (an unknown method or
// event) an error message quotes: the name is the peer's input, which an
// answer must not echo at full size.
const MaxQuoted = 64

// AppendQuoted appends b as a double-quoted string, cut to [MaxQuoted]
// bytes and followed by "..." when it was cut. Printable ASCII is copied
// ('"' and '\\' escaped), every other byte written \xNN, so the message
// is plain ASCII whatever the peer sent. It does not allocate beyond
// growing dst.
func AppendQuoted(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	cut := len(b) > MaxQuoted
	if cut {
		b = b[:MaxQuoted]
	}
	dst = append(dst, '"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
		}
	}
	dst = append(dst, '"')
	if cut {
		dst = append(dst, "..."...)
	}
	return dst
}
