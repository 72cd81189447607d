package mpack

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// rpcRequest is a MessagePack-RPC request: [0, 1, "echo", ["hello"]].
const rpcRequest = "\x94\x00\x01\xa4echo\x91\xa5hello"

// validTests are whole frames of every format, each accepted with its
// length by the default limits.
var validTests = []struct{ name, in string }{
	{"positive fixint 0", "\x00"},
	{"positive fixint 127", "\x7f"},
	{"negative fixint -32", "\xe0"},
	{"negative fixint -1", "\xff"},
	{"nil", "\xc0"},
	{"false", "\xc2"},
	{"true", "\xc3"},
	{"uint8", "\xcc\xff"},
	{"uint16", "\xcd\x01\x00"},
	{"uint32", "\xce\x00\x01\x00\x00"},
	{"uint64", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff"},
	{"int8", "\xd0\x80"},
	{"int16", "\xd1\x80\x00"},
	{"int32", "\xd2\x80\x00\x00\x00"},
	{"int64", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"},
	{"float32", "\xca\x3f\x80\x00\x00"},
	{"float64", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"},
	{"fixstr empty", "\xa0"},
	{"fixstr", "\xa5hello"},
	{"fixstr 31", "\xbf" + strings.Repeat("s", 31)},
	{"str8 empty", "\xd9\x00"},
	{"str8", "\xd9\x03abc"},
	{"str8 255", "\xd9\xff" + strings.Repeat("s", 255)},
	{"str16", "\xda\x00\x03abc"},
	{"str16 256", "\xda\x01\x00" + strings.Repeat("s", 256)},
	{"str32", "\xdb\x00\x00\x00\x03abc"},
	{"str not utf-8", "\xa2\xff\xfe"},
	{"bin8 empty", "\xc4\x00"},
	{"bin8", "\xc4\x03\x00\x01\x02"},
	{"bin16", "\xc5\x00\x03\x00\x01\x02"},
	{"bin32", "\xc6\x00\x00\x00\x03\x00\x01\x02"},
	{"fixext1", "\xd4\x05\x01"},
	{"fixext2", "\xd5\x05\x01\x02"},
	{"fixext4", "\xd6\x05\x01\x02\x03\x04"},
	{"fixext8", "\xd7\x05" + strings.Repeat("\x01", 8)},
	{"fixext16", "\xd8\x05" + strings.Repeat("\x01", 16)},
	{"ext8 empty", "\xc7\x00\x05"},
	{"ext8", "\xc7\x03\x05abc"},
	{"ext16", "\xc8\x00\x03\x80abc"},
	{"ext32", "\xc9\x00\x00\x00\x03\x7fabc"},
	{"timestamp32", "\xd6\xff\x00\x00\x00\x01"},
	{"timestamp64", "\xd7\xff" + strings.Repeat("\x00", 7) + "\x01"},
	{"timestamp96", "\xc7\x0c\xff" + strings.Repeat("\x00", 11) + "\x01"},
	{"timestamp32 as ext8", "\xc7\x04\xff\x00\x00\x00\x01"},
	{"fixarray empty", "\x90"},
	{"fixarray", "\x93\x01\x02\x03"},
	{"fixarray 15", "\x9f" + strings.Repeat("\xc0", 15)},
	{"array16 empty", "\xdc\x00\x00"},
	{"array16", "\xdc\x00\x02\x01\x02"},
	{"array16 16", "\xdc\x00\x10" + strings.Repeat("\xc3", 16)},
	{"array32", "\xdd\x00\x00\x00\x01\xc0"},
	{"fixmap empty", "\x80"},
	{"fixmap", "\x82\xa1a\x01\xa1b\x02"},
	{"map16", "\xde\x00\x01\x01\x02"},
	{"map32", "\xdf\x00\x00\x00\x01\xa1k\x90"},
	{"map with array key", "\x81\x91\x01\x02"},
	{"map with map key", "\x81\x81\x01\x02\x03"},
	{"nested", "\x92\x92\x81\xa1k\x93\x01\x02\x03\xc0\x91\xa0"},
	{"depth 32", strings.Repeat("\x91", 31) + "\x90"},
	{"depth 32 with scalar", strings.Repeat("\x91", 32) + "\x01"},
	{"rpc request", rpcRequest},
	{"rpc response", "\x94\x01\x01\xc0\xa5hello"},
	{"rpc notification", "\x93\x02\xa4ping\x90"},
	{"cocaine invoke", "\x94\x02\x00\x91\xa4echo\x90"},
	{"cocaine chunk", "\x94\x02\x00\x91\xa5hello\x90"},
	{"cocaine heartbeat", "\x93\x01\x00\x90"},
	{"cocaine error", "\x93\x02\x01\x92\x92\x01\x02\xa4oops"},
}

// walkOutcome is the result of a walk as a string, for comparisons.
func walkOutcome(n int, err error) string {
	var e *Error
	switch {
	case err == nil:
		return "accepted " + strconv.Itoa(n)
	case err == codec.ErrIncomplete:
		return "incomplete"
	case errors.As(err, &e): // without Near, which depends on the bytes present
		return fmt.Sprintf("malformed: %s at %d (byte %#x, len %d, limit %d)", e.Msg, e.Offset, e.Byte, e.Len, e.Limit)
	}
	return "unexpected error: " + err.Error()
}

// TestWalkValid: every valid frame is accepted with its length, also with
// bytes after it, and msgpack/v5, Skip and the readers agree on it.
func TestWalkValid(t *testing.T) {
	for _, tt := range validTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, in := range []string{tt.in, tt.in + "\xc1\xdd\xff\xff\xff\xff"} {
				n, err := Walk([]byte(in), Limits{})
				if err != nil || n != len(tt.in) {
					t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(len(tt.in), nil))
				}
			}
			checkAccepted(t, []byte(tt.in))
		})
	}
}

// TestWalkSplit: every proper prefix of every valid frame is incomplete,
// with a Need past the prefix and within the frame; a resumed walker
// accepts the frame whichever the split, and byte by byte.
func TestWalkSplit(t *testing.T) {
	for _, tt := range validTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			for k := range len(in) {
				var w Walker
				n, err := w.Walk(in[:k])
				if err != codec.ErrIncomplete {
					t.Fatalf("prefix %d: got %q, want %q", k, walkOutcome(n, err), "incomplete")
				}
				if need := w.Need(); need <= k || need > len(in) {
					t.Fatalf("prefix %d: got need %d, want in (%d, %d]", k, need, k, len(in))
				}
				if n, err := w.Walk(in); err != nil || n != len(in) {
					t.Fatalf("split at %d: got %q, want %q", k, walkOutcome(n, err), walkOutcome(len(in), nil))
				}
			}
			var w Walker
			for k := 0; k <= len(in); k++ {
				n, err := w.Walk(in[:k])
				want := "incomplete"
				if k == len(in) {
					want = walkOutcome(len(in), nil)
				}
				if got := walkOutcome(n, err); got != want {
					t.Fatalf("byte by byte, %d bytes: got %q, want %q", k, got, want)
				}
			}
			// Following Need alone also gets there.
			w.Reset()
			for k := 0; ; {
				n, err := w.Walk(in[:k])
				if err == nil {
					if n != len(in) {
						t.Fatalf("following need: got %d, want %d", n, len(in))
					}
					break
				}
				if err != codec.ErrIncomplete || w.Need() <= k || w.Need() > len(in) {
					t.Fatalf("following need from %d: got %q need %d", k, walkOutcome(n, err), w.Need())
				}
				k = w.Need()
			}
		})
	}
}

// TestWalkSeveral: one walker walks frame after frame of a buffer.
func TestWalkSeveral(t *testing.T) {
	var all string
	for _, tt := range validTests {
		all += tt.in
	}
	in := []byte(all)
	var w Walker
	for i, off := 0, 0; off < len(in); i++ {
		n, err := w.Walk(in[off:])
		if err != nil || n != len(validTests[i].in) {
			t.Fatalf("frame %d: got %q, want %q", i, walkOutcome(n, err), walkOutcome(len(validTests[i].in), nil))
		}
		off += n
	}
}

// incompleteTests are prefixes with the least frame length they tell.
var incompleteTests = []struct {
	name string
	in   string
	need int
}{
	{"empty", "", 1},
	{"array of 3, 1 given", "\x93\x01", 4},
	{"uint16 header", "\xcd\x01", 3},
	{"uint64 in array", "\x92\xcf\x00", 11},
	{"str16 length", "\xda\x00", 3},
	{"str16 data", "\xda\x01\x00", 259},
	{"str32 in array", "\x92\xdb\x00\x00\x01\x00", 263},
	{"fixstr data then more", "\x94\x00\x01\xa4ec", 9},
	{"ext8 type", "\xc7\x04", 7},
	{"fixext8 type", "\xd7", 10},
	{"map of 2 pairs", "\x82", 5},
	{"map16 of 256 pairs", "\xde\x01\x00", 515},
	{"bin32 filling 1 MiB", "\xc6\x00\x0f\xff\xfb", 1 << 20},
	{"array32 filling 1 MiB", "\xdd\x00\x0f\xff\xfb", 1 << 20},
	{"map32 filling 1 MiB", "\xdf\x00\x07\xff\xfd", 1<<20 - 1},
	{"array16 of fixstr", "\xdc\x00\x03\xa3ab", 9},
}

// TestWalkIncomplete: prefixes are incomplete and Need is exact.
func TestWalkIncomplete(t *testing.T) {
	for _, tt := range incompleteTests {
		t.Run(tt.name, func(t *testing.T) {
			var w Walker
			n, err := w.Walk([]byte(tt.in))
			if got := walkOutcome(n, err); got != "incomplete" {
				t.Fatalf("got %q, want %q", got, "incomplete")
			}
			if got := w.Need(); got != tt.need {
				t.Fatalf("got need %d, want %d", got, tt.need)
			}
		})
	}
}

// malformedTests are refused frames, with the offset and phrase of the
// refusal and the message of the error.
var malformedTests = []struct {
	name string
	in   string
	lim  Limits
	off  int
	msg  string
	text string // the whole message, when given
}{
	{"reserved", "\xc1", Limits{}, 0, msgReserved, "mpack: reserved byte 0xc1 at offset 0 near c1"},
	{"reserved in array", "\x93\x01\xc1\x02", Limits{}, 2, msgReserved, "mpack: reserved byte 0xc1 at offset 2 near c1 02"},
	{"reserved as map key", "\x81\xc1\x01", Limits{}, 1, msgReserved, ""},
	{"reserved short array", "\x93\xc1", Limits{}, 1, msgReserved, ""},
	{"depth 33", strings.Repeat("\x91", 33) + "\x00", Limits{}, 32, msgDepth,
		"mpack: depth over 32 at offset 32 near 91 00"},
	{"depth 33 empty", strings.Repeat("\x91", 32) + "\x90", Limits{}, 32, msgDepth, ""},
	{"depth 33 map", strings.Repeat("\x81\x01", 32) + "\x80", Limits{}, 64, msgDepth, ""},
	{"depth 3 of 2", "\x91\x91\x91\x00", Limits{MaxDepth: 2}, 2, msgDepth, "mpack: depth over 2 at offset 2 near 91 00"},
	{"depth 65 of 100", strings.Repeat("\x91", 65), Limits{MaxDepth: 100}, 64, msgDepth, ""},
	{"array32 max", "\xdd\xff\xff\xff\xff", Limits{}, 0, msgTooLong,
		"mpack: array of 4294967295 elements cannot fit in a frame of 1048576 bytes at offset 0 near dd ff ff ff ff"},
	{"array32 in frame", "\x93\x01\x00\xdd\xff\xff\xff\xff", Limits{}, 3, msgTooLong,
		"mpack: array of 4294967295 elements cannot fit in a frame of 1048576 bytes at offset 3 near dd ff ff ff ff"},
	{"map32 max", "\xdf\xff\xff\xff\xff", Limits{}, 0, msgTooLong,
		"mpack: map of 4294967295 pairs cannot fit in a frame of 1048576 bytes at offset 0 near df ff ff ff ff"},
	{"str32 max", "\xdb\xff\xff\xff\xff", Limits{}, 0, msgTooLong,
		"mpack: str of 4294967295 bytes cannot fit in a frame of 1048576 bytes at offset 0 near db ff ff ff ff"},
	{"bin32 max", "\xc6\xff\xff\xff\xff", Limits{}, 0, msgTooLong, ""},
	{"ext32 max without type", "\xc9\xff\xff\xff\xff", Limits{}, 0, msgTooLong,
		"mpack: ext of 4294967295 bytes cannot fit in a frame of 1048576 bytes at offset 0 near c9 ff ff ff ff"},
	{"array over frame", "\x9f", Limits{MaxFrame: 10}, 0, msgTooLong,
		"mpack: array of 15 elements cannot fit in a frame of 10 bytes at offset 0 near 9f"},
	{"map over frame", "\x85", Limits{MaxFrame: 10}, 0, msgTooLong, ""},
	{"str8 over frame", "\xd9\x10", Limits{MaxFrame: 16}, 0, msgTooLong, ""},
	{"fixstr over frame", "\xa5hello", Limits{MaxFrame: 4}, 0, msgFrame,
		"mpack: frame over 4 bytes at offset 0 near a5 68 65 6c 6c 6f"},
	{"uint64 over frame", "\x92\xcf", Limits{MaxFrame: 4}, 1, msgFrame, ""},
	{"scalar with pending over frame", "\x94\xcc\x01", Limits{MaxFrame: 5}, 1, msgFrame, ""},
	{"str16 header over frame", "\x92\x01\xda", Limits{MaxFrame: 4}, 2, msgFrame, ""},
	{"fixext16 over frame", "\xd8", Limits{MaxFrame: 17}, 0, msgFrame, ""},
	{"array32 header over frame", "\xdd", Limits{MaxFrame: 4}, 0, msgFrame, ""},
	{"pairs over the rest", "\x92\x01\x82", Limits{MaxFrame: 6}, 2, msgTooLong, ""},
	{"bin32 1 MiB + 1 frame", "\xc6\x00\x0f\xff\xfc", Limits{}, 0, msgTooLong, ""},
	{"array32 1 MiB + 1 elements", "\xdd\x00\x10\x00\x01", Limits{}, 0, msgTooLong, ""},
	{"timestamp fixext1", "\xd4\xff\x00", Limits{}, 0, msgTimestamp,
		"mpack: timestamp of 1 bytes at offset 0 near d4 ff 00"},
	{"timestamp fixext2", "\xd5\xff", Limits{}, 0, msgTimestamp, ""},
	{"timestamp fixext16", "\xd8\xff", Limits{}, 0, msgTimestamp, ""},
	{"timestamp ext8 5", "\xc7\x05\xff", Limits{}, 0, msgTimestamp, ""},
	{"timestamp ext8 0", "\x91\xc7\x00\xff", Limits{}, 1, msgTimestamp, ""},
}

// TestWalkMalformed: each frame is refused with an *Error at the right
// offset, that errors.As finds as a *codec.SyntaxError; every prefix is
// incomplete or refused the same way, split or byte by byte.
func TestWalkMalformed(t *testing.T) {
	for _, tt := range malformedTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			n, err := Walk(in, tt.lim)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %q, want an *Error", walkOutcome(n, err))
			}
			if e.Offset != tt.off || e.Msg != tt.msg || e.Byte != in[tt.off] {
				t.Fatalf("got %q at %d (byte %#x), want %q at %d", e.Msg, e.Offset, e.Byte, tt.msg, tt.off)
			}
			if tt.text != "" && e.Error() != tt.text {
				t.Fatalf("got %q, want %q", e.Error(), tt.text)
			}
			var se *codec.SyntaxError
			if !errors.As(err, &se) || se.Offset != tt.off || se.Msg != tt.msg {
				t.Fatalf("got %v, want a *codec.SyntaxError at %d", se, tt.off)
			}
			want := walkOutcome(n, err)
			for k := range len(in) {
				pn, perr := Walk(in[:k], tt.lim)
				if got := walkOutcome(pn, perr); got != "incomplete" && got != want {
					t.Fatalf("prefix %d: got %q, want %q or %q", k, got, "incomplete", want)
				}
				w := Walker{Limits: tt.lim}
				w.Walk(in[:k])
				if got := walkOutcome(w.Walk(in)); got != want {
					t.Fatalf("split at %d: got %q, want %q", k, got, want)
				}
			}
			w := Walker{Limits: tt.lim}
			for k := 0; k <= len(in); k++ {
				n, err = w.Walk(in[:k])
				if err != codec.ErrIncomplete {
					break
				}
			}
			if got := walkOutcome(n, err); got != want {
				t.Fatalf("byte by byte: got %q, want %q", got, want)
			}
		})
	}
}

// TestWalkerSticky: a refusal is final until Reset, and the error stays
// the same.
func TestWalkerSticky(t *testing.T) {
	var w Walker
	_, err := w.Walk([]byte("\xc1"))
	if _, err2 := w.Walk([]byte("\x01")); err2 != err {
		t.Fatalf("got %v, want %v", err2, err)
	}
	w.Reset()
	if n, err := w.Walk([]byte("\x01")); err != nil || n != 1 {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(1, nil))
	}
}

// TestWalkerShrunk: a walker given fewer bytes than it saw last starts
// afresh instead of trusting its place.
func TestWalkerShrunk(t *testing.T) {
	var w Walker
	if _, err := w.Walk([]byte("\x93\x01\x02")); err != codec.ErrIncomplete {
		t.Fatalf("got %v, want %v", err, codec.ErrIncomplete)
	}
	if n, err := w.Walk([]byte("\x01")); err != nil || n != 1 {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(1, nil))
	}
}

// TestWalkLimits: the limits' defaults and ceilings, and frames exactly at
// the limits.
func TestWalkLimits(t *testing.T) {
	if f, d := (Limits{}).bounds(); f != codec.DefaultMaxFrame || d != DefaultMaxDepth {
		t.Fatalf("got %d, %d, want %d, %d", f, d, codec.DefaultMaxFrame, DefaultMaxDepth)
	}
	if f, d := (Limits{MaxFrame: math.MaxInt, MaxDepth: 1000}).bounds(); f != MaxFrameLimit || d != MaxDepthLimit {
		t.Fatalf("got %d, %d, want %d, %d", f, d, MaxFrameLimit, MaxDepthLimit)
	}
	// A bin32 frame of exactly 1 MiB, and one byte more.
	exact := AppendBin(nil, make([]byte, 1<<20-5))
	if n, err := Walk(exact, Limits{}); err != nil || n != 1<<20 {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(1<<20, nil))
	}
	over := AppendBin(nil, make([]byte, 1<<20-4))
	if n, err := Walk(over, Limits{}); !isMsg(err, msgTooLong) {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), msgTooLong)
	}
	// An array of fixints filling 8 bytes exactly, and one byte more.
	if n, err := Walk([]byte("\x97\x01\x02\x03\x04\x05\x06\x07"), Limits{MaxFrame: 8}); err != nil || n != 8 {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(8, nil))
	}
	if n, err := Walk([]byte("\x98"), Limits{MaxFrame: 8}); !isMsg(err, msgTooLong) {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), msgTooLong)
	}
	// Depth 64 at the ceiling.
	deep := strings.Repeat("\x91", 63) + "\x90"
	if n, err := Walk([]byte(deep), Limits{MaxDepth: 64}); err != nil || n != 64 {
		t.Fatalf("got %q, want %q", walkOutcome(n, err), walkOutcome(64, nil))
	}
}

func isMsg(err error, msg string) bool {
	var e *Error
	return errors.As(err, &e) && e.Msg == msg
}
