//go:build !race

package http1

import (
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// allocs serves in through a session again and again, the way the reactor
// does (Out reused), and fails on any allocation.
func allocs(t *testing.T, in string, wantStatus int) {
	t.Helper()
	c := testCodec(t, codec.Limits{})
	s := c.NewSession(&fakeConn{})
	orig := []byte(in)
	buf := make([]byte, len(orig))
	out := make([]byte, 0, 64<<10)
	f := new(codec.Flow) // the reactor's, reused
	run := func() {
		copy(buf, orig) // chunked bodies are decoded in place
		*f = codec.Flow{Out: out[:0], Limit: 1 << 20}
		if n := s.Serve(buf, f); n != len(buf) || f.Close {
			t.Fatalf("got %d consumed, close=%v: %q", n, f.Close, f.Out)
		}
		out = f.Out
	}
	run() // grow the loop's buffers
	if got := statusOf(string(out)); len(got) == 0 || got[0] != wantStatus {
		t.Fatalf("got statuses %v, want %d: %q", got, wantStatus, out)
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Errorf("got %v allocations per request, want 0", n)
	}
}

// TestAllocsGet: a keep-alive GET — parse, route, handler, encode — does
// not allocate.
func TestAllocsGet(t *testing.T) {
	allocs(t, "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n", 200)
}

// TestAllocsPost: a POST with a small body to the echo handler does not
// allocate.
func TestAllocsPost(t *testing.T) {
	allocs(t, "POST /echo?x=1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world", 200)
}

// TestAllocsChunked: a chunked POST with a trailer does not allocate.
func TestAllocsChunked(t *testing.T) {
	allocs(t, "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n", 200)
}

// TestAllocsPipelined: 16 pipelined requests do not allocate.
func TestAllocsPipelined(t *testing.T) {
	in := ""
	for range 16 {
		in += "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"
	}
	allocs(t, in, 200)
}

// TestAllocsMiss: an answer from the registry's 404 handler does not
// allocate either.
func TestAllocsMiss(t *testing.T) {
	allocs(t, "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n", 404)
}
