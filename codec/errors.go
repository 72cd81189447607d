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
