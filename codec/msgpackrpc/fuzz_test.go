package msgpackrpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// fuzzLimits are small, so that fuzzing reaches the frame bound.
var fuzzLimits = codec.Limits{MaxFrame: 256}

// swapPool lets one codec serve every run of the fuzz target, each with a
// fresh pool.
type swapPool struct{ p *fakePool }

func (s *swapPool) Go(ctx context.Context, n int, fn func()) bool { return s.p.Go(ctx, n, fn) }

// fuzzRun serves the pieces through a fresh session of c whose blocking
// calls go to a pool of two, run once all is fed, and describes the
// outcome. It fails on output that is not a sequence of well-formed
// responses.
func fuzzRun(t *testing.T, c *Codec, sp *swapPool, limit int, pieces ...[]byte) string {
	t.Helper()
	pool := &fakePool{size: 2}
	sp.p = pool
	d := newDriver(t, c)
	d.limit = limit
	d.run(pieces...)
	d.flush()
	for pool.run() {
	}
	d.deliver()
	rs, err := responses(d.out)
	if err != nil {
		t.Fatalf("got output %q: %v", hexOf(d.out), err)
	}
	if len(rs) > d.requests {
		t.Fatalf("got %d responses to %d calls", len(rs), d.requests)
	}
	if !d.closed && len(d.in) >= fuzzLimits.MaxFrame {
		t.Fatalf("got %d bytes buffered, over the frame limit", len(d.in))
	}
	if d.busy {
		t.Fatalf("got busy with the pool empty")
	}
	return fmt.Sprintf("out=%s closed=%v requests=%d errors=%d panics=%d left=%d",
		hexOf(d.out), d.closed, d.requests, d.errors, d.panics, len(d.in))
}

// FuzzSession: a session never panics, never consumes more than it is
// given (the driver checks), answers with well-formed responses only, and
// answers the same however the input is split and whatever the output
// limit.
func FuzzSession(f *testing.F) {
	for _, g := range goldens {
		in := frame(g.in)
		f.Add(in, uint16(len(in)/2))
	}
	for _, m := range malformed {
		in := cat(ping1, frame(m.in), ping2)
		f.Add(in, uint16(len(ping1)+1))
	}
	f.Add(cat(slow1, ping2, slow3, frame(`94 00 04 a9 "slowpanic" 90`)), uint16(3))
	f.Add(cat(slow1, frame(`93 02 a4 "slow" 91 01`), frame(`94 01 01 c0 c0`)), uint16(20))
	sp := &swapPool{}
	c := testCodec(f, fuzzLimits, sp)
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		want := fuzzRun(t, c, sp, 1<<20, in)
		k := int(split) % (len(in) + 1)
		if got := fuzzRun(t, c, sp, 1, in[:k], in[k:]); got != want {
			t.Fatalf("split at %d, limit 1: got %q, want %q", k, got, want)
		}
		if len(in) <= 512 {
			var pieces [][]byte
			for i := range in {
				pieces = append(pieces, in[i:i+1])
			}
			if got := fuzzRun(t, c, sp, 1<<20, pieces...); got != want {
				t.Fatalf("byte by byte: got %q, want %q", got, want)
			}
		}
		// Every request before the first bad frame, and no other, is
		// answered once, as msgpack/v5 reads the frames.
		wantIDs, wantClosed := refCalls(t, in)
		gotIDs, closed := fuzzIDs(t, c, sp, in)
		if !slices.Equal(gotIDs, wantIDs) || closed != wantClosed {
			t.Fatalf("got answers to %v closed=%v, want %v closed=%v", gotIDs, closed, wantIDs, wantClosed)
		}
	})
}

// fuzzIDs serves in whole and returns the msgids answered, sorted, and
// whether the connection closed.
func fuzzIDs(t *testing.T, c *Codec, sp *swapPool, in []byte) ([]uint32, bool) {
	pool := &fakePool{size: -1}
	sp.p = pool
	d := newDriver(t, c)
	d.run(in)
	for pool.run() {
	}
	d.deliver()
	rs, err := responses(d.out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for _, r := range rs {
		ids = append(ids, r.msgid)
	}
	slices.Sort(ids)
	return ids, d.closed
}

// refCalls is the reference: it cuts in into frames with mpack.Walk, reads
// each with msgpack/v5 (safe on walked frames), and returns the msgids of
// the requests before the first frame that is not a request or
// notification, sorted, and whether there is such a frame.
func refCalls(t *testing.T, in []byte) (ids []uint32, bad bool) {
	for off := 0; off < len(in); {
		n, err := mpack.Walk(in[off:], mpack.Limits{MaxFrame: fuzzLimits.MaxFrame})
		if errors.Is(err, codec.ErrIncomplete) {
			break
		}
		if err != nil {
			bad = true
			break
		}
		fr := in[off : off+n]
		off += n
		var elems []msgpack.RawMessage
		if msgpack.Unmarshal(fr, &elems) != nil || mpack.NextType(fr) != mpack.ArrayType {
			bad = true
			break
		}
		typ, ok := refUint(elems, 0)
		switch {
		case ok && typ == TypeNotification && len(elems) == 3:
			continue
		case ok && typ == TypeRequest && len(elems) == 4:
			if id, ok := refUint(elems, 1); ok && id <= 1<<32-1 {
				ids = append(ids, uint32(id))
				continue
			}
		}
		bad = true
		break
	}
	slices.Sort(ids)
	return ids, bad
}

// refUint decodes elems[i] as msgpack/v5 does and reports whether it is a
// non-negative integer.
func refUint(elems []msgpack.RawMessage, i int) (uint64, bool) {
	if i >= len(elems) {
		return 0, false
	}
	var v any
	if msgpack.Unmarshal(elems[i], &v) != nil {
		return 0, false
	}
	switch x := v.(type) {
	case int8:
		return uint64(x), x >= 0
	case int16:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}
