//go:build !race

package msgpackrpc

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// allocs serves the pieces through one session again and again, the way
// the reactor does (Out reused), and fails on any allocation.
func allocs(t *testing.T, want []byte, pieces ...[]byte) {
	t.Helper()
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	s := d.s
	out := make([]byte, 0, 64<<10)
	f := new(codec.Flow) // the reactor's, reused
	var in []byte
	run := func() {
		*f = codec.Flow{Out: out[:0], Limit: 1 << 20}
		in = in[:0]
		for _, p := range pieces {
			in = append(in, p...)
			n := s.Serve(in, f)
			in = in[:copy(in, in[n:])]
			if f.Close {
				t.Fatalf("got the connection closed: %q", hexOf(f.Out))
			}
		}
		out = f.Out
	}
	run() // grow the loop's buffers
	if !bytes.Equal(out, want) || len(in) != 0 {
		t.Fatalf("got %q with %d bytes left, want %q", hexOf(out), len(in), hexOf(want))
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Errorf("got %v allocations per run, want 0", n)
	}
}

// TestAllocsEcho: an echo call — walk, parse, lookup, method, encode —
// does not allocate.
func TestAllocsEcho(t *testing.T) {
	allocs(t, frame(`94 01 01 c0 a5 "hello"`), frame(`94 00 01 a4 "echo" 91 a5 "hello"`))
}

// TestAllocsPipelined: 16 pipelined calls in one Serve do not allocate.
func TestAllocsPipelined(t *testing.T) {
	allocs(t, bytes.Repeat(pong1, 16), bytes.Repeat(ping1, 16))
}

// TestAllocsSplitFrame: a frame that arrives in three pieces borrows a
// Walker from the loop and gives it back, without allocating.
func TestAllocsSplitFrame(t *testing.T) {
	in := frame(`94 00 01 a4 "echo" 91 a5 "hello"`)
	allocs(t, frame(`94 01 01 c0 a5 "hello"`), in[:3], in[3:10], in[10:])
}

// TestAllocsErrors: the answers of a failing method, a notification and
// an unknown method do not allocate either.
func TestAllocsErrors(t *testing.T) {
	allocs(t, frame(`94 01 02 a9 "it failed" c0  94 01 03 b4 "unknown method \"foo\"" c0`),
		frame(`94 00 02 a4 "fail" 90  93 02 a4 "note" 90  94 00 03 a3 "foo" 90`))
}
