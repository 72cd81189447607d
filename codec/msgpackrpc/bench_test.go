package msgpackrpc

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// benchmarkServe serves in, whole, through one session per iteration, as
// the reactor does (Out reused).
func benchmarkServe(b *testing.B, in []byte, calls int) {
	c := testCodec(b, codec.Limits{}, nil)
	s := c.NewSession(&fakeConn{})
	f := &codec.Flow{Out: make([]byte, 0, 64<<10)}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		*f = codec.Flow{Out: f.Out[:0], Limit: 1 << 20}
		if n := s.Serve(in, f); n != len(in) || f.Requests != calls {
			b.Fatalf("got %d consumed, %d requests", n, f.Requests)
		}
	}
}

// BenchmarkEcho: one echo call per Serve.
func BenchmarkEcho(b *testing.B) {
	benchmarkServe(b, frame(`94 00 01 a4 "echo" 91 ab "hello world"`), 1)
}

// BenchmarkEchoPipelined: 16 echo calls per Serve.
func BenchmarkEchoPipelined(b *testing.B) {
	benchmarkServe(b, bytes.Repeat(frame(`94 00 01 a4 "echo" 91 ab "hello world"`), 16), 16)
}

// BenchmarkEchoSplit: one echo call whose frame arrives in two pieces.
func BenchmarkEchoSplit(b *testing.B) {
	in := frame(`94 00 01 a4 "echo" 91 ab "hello world"`)
	c := testCodec(b, codec.Limits{}, nil)
	s := c.NewSession(&fakeConn{})
	f := &codec.Flow{Out: make([]byte, 0, 64<<10)}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		*f = codec.Flow{Out: f.Out[:0], Limit: 1 << 20}
		if n := s.Serve(in[:9], f); n != 0 {
			b.Fatalf("got %d consumed of a partial frame", n)
		}
		if n := s.Serve(in, f); n != len(in) {
			b.Fatalf("got %d consumed", n)
		}
	}
}
