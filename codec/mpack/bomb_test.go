package mpack

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A bomb is input that makes a careless decoder allocate, recurse or wait
// without bound. Each is refused with the default limits (MaxFrame 1 MiB,
// MaxDepth 32) from its header alone: the walker never waits for the bytes
// a declared length promises when they cannot fit.
type bomb struct {
	name string
	in   []byte
	off  int    // offset of the refused header
	msg  string // Error.Msg
}

// bigBin is a bin32 of n data bytes, header and data.
func bigBin(n int) []byte { return AppendBin(make([]byte, 0, n+5), make([]byte, n)) }

var bombs = func() []bomb {
	bs := []bomb{
		{"nesting 5 MB of fixarray", bytes.Repeat([]byte{0x91}, 5<<20), 32, msgDepth},
		{"nesting 5 MB of array16", bytes.Repeat([]byte{0xdc, 0x00, 0x01}, 5<<20/3), 96, msgDepth},
		{"nesting 5 MB of fixmap", bytes.Repeat([]byte{0x81, 0xc0}, 5<<20/2), 64, msgDepth},
		{"frame of 1 MiB+1: bin32 header", []byte("\xc6\x00\x0f\xff\xfc"), 0, msgTooLong},
		{"frame of 1 MiB+1: bin32 whole", bigBin(1<<20 + 1 - 5), 0, msgTooLong},
		{"array32 of 1 MiB+1 fixints: header", []byte("\xdd\x00\x10\x00\x01"), 0, msgTooLong},
		{"array32 of 1 MiB+1 fixints: whole", append([]byte("\xdd\x00\x10\x00\x01"), make([]byte, 1<<20+1)...), 0, msgTooLong},
		{"frame of 1 MiB+1: array32 of fixints", append([]byte("\xdd\x00\x0f\xff\xfc"), make([]byte, 1<<20-4)...), 0, msgTooLong},
		{"three bin32 of 400 KiB", append(append(append([]byte{0x93}, bigBin(400<<10)...), bigBin(400<<10)...), bigBin(400<<10)...),
			1 + 2*(5+400<<10), msgTooLong},
		{"many fixarrays of 15 nils", append([]byte("\xdd\x00\x01\x00\x00"), bytes.Repeat([]byte("\x9f"+strings.Repeat("\xc0", 15)), 1<<16)...),
			5 + 65535*16, msgTooLong},
		{"array32 of 131072 float64", append([]byte("\xdd\x00\x02\x00\x00"), bytes.Repeat(AppendFloat64(nil, 1), 1<<17)...),
			5 + 9*114687, msgFrame},
	}
	for _, h := range []struct{ name, hdr string }{
		{"array32", "\xdd"}, {"map32", "\xdf"}, {"str32", "\xdb"}, {"bin32", "\xc6"}, {"ext32", "\xc9"},
	} {
		for _, n := range []struct{ name, len string }{{"0xffffffff", "\xff\xff\xff\xff"}, {"2^31-1", "\x7f\xff\xff\xff"}} {
			in := h.hdr + n.len
			bs = append(bs,
				bomb{h.name + " " + n.name, []byte(in), 0, msgTooLong},
				bomb{h.name + " " + n.name + " in a frame", []byte("\x93\x01\x00" + in), 3, msgTooLong})
		}
	}
	return append(bs, bomb{"ext32 0xffffffff with type", []byte("\xc9\xff\xff\xff\xff\x05"), 0, msgTooLong})
}()

// TestBombs: each bomb is refused at its header, whichever way it is cut.
func TestBombs(t *testing.T) {
	for _, bb := range bombs {
		t.Run(bb.name, func(t *testing.T) {
			var w Walker
			n, err := w.Walk(bb.in)
			var e *Error
			if !errors.As(err, &e) || e.Offset != bb.off || e.Msg != bb.msg {
				t.Fatalf("got %q, want %q at %d", walkOutcome(n, err), bb.msg, bb.off)
			}
			// Refused as soon as the header is in, fed a piece at a time.
			w.Reset()
			end := bb.off + int(formats[bb.in[bb.off]].size)
			for k := 0; ; k = min(k+4096, len(bb.in)) {
				if n, err = w.Walk(bb.in[:k]); err != nil && !errors.As(err, &e) && k < len(bb.in) {
					if k >= end {
						t.Fatalf("%d bytes: got %q, want %q", k, walkOutcome(n, err), bb.msg)
					}
					continue
				}
				break
			}
			if !errors.As(err, &e) || e.Offset != bb.off || e.Msg != bb.msg {
				t.Fatalf("in pieces: got %q, want %q at %d", walkOutcome(n, err), bb.msg, bb.off)
			}
		})
	}
}

// BenchmarkBomb: the time to refuse each bomb, bytes all present.
func BenchmarkBomb(b *testing.B) {
	for _, bb := range bombs {
		b.Run(strings.ReplaceAll(bb.name, " ", "_"), func(b *testing.B) {
			var w Walker
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				if _, err := w.Walk(bb.in); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
