package cocaine

import (
	"fmt"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

func benchServe(b *testing.B, in []byte) {
	c := newCodec(b, nil, Options{}, nil, codec.Limits{})
	s := c.NewSession(&fakeConn{}).(*session)
	f := &codec.Flow{Out: make([]byte, 0, 64<<10), Limit: 1 << 20}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		s.maxID = 0
		f.Out = f.Out[:0]
		if n := s.Serve(in, f); n != len(in) {
			b.Fatalf("consumed %d of %d", n, len(in))
		}
	}
}

// BenchmarkEcho: one echo exchange (invoke, chunk, choke) per Serve.
func BenchmarkEcho(b *testing.B) {
	benchServe(b, join(invoke(2, "echo"), chunk(2, "hello, world"), choke(2)))
}

// BenchmarkPing: one unary call per Serve.
func BenchmarkPing(b *testing.B) {
	benchServe(b, join(invoke(2, "ping"), chunk(2, "\x90"), choke(2)))
}

// BenchmarkEchoPipelined: many channels open at once, their chunks
// interleaved, in one Serve; reported per channel.
func BenchmarkEchoPipelined(b *testing.B) {
	for _, n := range []int{16, 256} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var in []byte
			for i := range n {
				in = append(in, invoke(uint64(2+i), "echo")...)
			}
			for i := range n {
				in = append(in, chunk(uint64(2+i), "hello, world")...)
			}
			for i := range n {
				in = append(in, choke(uint64(2+i))...)
			}
			c := newCodec(b, nil, Options{}, nil, codec.Limits{})
			s := c.NewSession(&fakeConn{}).(*session)
			f := &codec.Flow{Out: make([]byte, 0, 64<<10), Limit: 1 << 20}
			b.ReportAllocs()
			b.SetBytes(int64(len(in) / n))
			for b.Loop() {
				s.maxID = 0
				f.Out = f.Out[:0]
				if got := s.Serve(in, f); got != len(in) {
					b.Fatalf("consumed %d of %d", got, len(in))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/channel")
		})
	}
}

// BenchmarkResolve: one locator resolve per Serve.
func BenchmarkResolve(b *testing.B) {
	c := newLocator(b, listeners("cocaine://127.0.0.1:10054"))
	s := c.NewSession(&fakeConn{}).(*locSession)
	in := AppendResolve(nil, 2, "echo")
	f := &codec.Flow{Out: make([]byte, 0, 4096), Limit: 1 << 20}
	b.ReportAllocs()
	for b.Loop() {
		s.maxID = 0
		f.Out = f.Out[:0]
		s.Serve(in, f)
	}
}
