package mpack

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tokamak-io/tokamak/codec"
)

// Error is a frame a [Walker] refuses. The embedded [codec.SyntaxError]
// says where, counted from the start of the frame, and what is wrong, in
// one of a few fixed phrases; the other fields carry the numbers, and
// [Error.Error] puts them together: "mpack: array of 4294967295 elements
// cannot fit in a frame of 1048576 bytes at offset 3 near dd ff ff ff ff".
//
// After an Error the framing of the bytes that follow is unknown: a codec
// answers it and closes the connection.
type Error struct {
	codec.SyntaxError
	// Byte is the first byte of the refused object, at Offset.
	Byte byte
	// Len is the declared length (bytes of a str, bin or ext) or count
	// (elements of an array, pairs of a map) when Msg is about one.
	Len uint64
	// Limit is the bound that was passed (MaxFrame or MaxDepth), if any.
	Limit int

	near  [8]byte // the bytes from Offset on, for Error
	nnear uint8
}

// The phrases of [Error].Msg. Tests compare against them.
const (
	msgReserved  = "reserved byte 0xc1"
	msgDepth     = "nesting too deep"
	msgFrame     = "frame too large"
	msgTooLong   = "declared length cannot fit in the frame"
	msgTimestamp = "timestamp extension of invalid length"
)

func (e *Error) Error() string {
	var what string
	switch e.Msg {
	case msgDepth:
		what = "depth over " + strconv.Itoa(e.Limit)
	case msgFrame:
		what = "frame over " + strconv.Itoa(e.Limit) + " bytes"
	case msgTooLong:
		what = fmt.Sprintf("%s of %d %s cannot fit in a frame of %d bytes", name(e.Byte), e.Len, unit(e.Byte), e.Limit)
	case msgTimestamp:
		what = fmt.Sprintf("timestamp of %d bytes", e.Len)
	default:
		what = e.Msg
	}
	return fmt.Sprintf("mpack: %s at offset %d near % x", what, e.Offset, e.near[:e.nnear])
}

// Unwrap returns the embedded [codec.SyntaxError], so that errors.As finds
// it.
func (e *Error) Unwrap() error { return &e.SyntaxError }

// name names the family of a first byte, for messages.
func name(c byte) string {
	switch formats[c].typ {
	case StrType:
		return "str"
	case BinType:
		return "bin"
	case ExtType:
		return "ext"
	case ArrayType:
		return "array"
	case MapType:
		return "map"
	}
	return formats[c].typ.String()
}

// unit names what a length of a first byte's family counts.
func unit(c byte) string {
	switch formats[c].typ {
	case ArrayType:
		return "elements"
	case MapType:
		return "pairs"
	}
	return "bytes"
}

// Errors of the readers. A reader given bytes that end inside the object
// returns [codec.ErrIncomplete], unwrapped; one given another type returns
// a [*TypeError].
var (
	// ErrRange: an integer does not fit the type asked for (a negative
	// number for [ReadUint], one over math.MaxInt64 for [ReadInt]).
	ErrRange = errors.New("mpack: integer out of range")
	// ErrReserved: [Skip] met the reserved byte 0xc1.
	ErrReserved = errors.New("mpack: reserved byte 0xc1")
)

// TypeError is a reader's answer to an object of another type than the one
// it reads. Got is [InvalidType] for the reserved byte 0xc1.
//
// The readers return pointers to shared, preallocated TypeErrors, so that
// a type mismatch costs no allocation: compare them with errors.As, never
// change them.
type TypeError struct {
	Want, Got Type
}

func (e *TypeError) Error() string {
	return "mpack: got " + e.Got.String() + ", want " + e.Want.String()
}

var typeErrors = func() (t [numTypes][numTypes]TypeError) {
	for w := range t {
		for g := range t[w] {
			t[w][g] = TypeError{Want: Type(w), Got: Type(g)}
		}
	}
	return t
}()

// typeError returns the shared TypeError for want and the first byte c.
func typeError(want Type, c byte) error { return &typeErrors[want][formats[c].typ] }
