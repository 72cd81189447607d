//go:build !race

package cocaine

import (
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// TestAllocations: once warmed, the echo stream and a unary call on the
// loop allocate nothing, whole or with the frame split across calls.
func TestAllocations(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"echo", join(invoke(2, "echo"), chunk(2, "hello, world"), choke(2))},
		{"ping", join(invoke(2, "ping"), chunk(2, "\x90"), choke(2))},
		{"first", join(invoke(2, "first"), chunk(2, "\x91\xa5hello"), choke(2))},
		{"heartbeat", V12.AppendHeartbeat(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodec(t, nil, Options{}, nil, codec.Limits{})
			conn := &fakeConn{}
			s := c.NewSession(conn).(*session)
			f := &codec.Flow{Out: make([]byte, 0, 4096), Limit: 1 << 20}
			serve := func() {
				s.maxID = 0 // replay the same ids
				f.Out = f.Out[:0]
				if n := s.Serve(tc.in, f); n != len(tc.in) || len(f.Out) == 0 {
					t.Fatalf("consumed %d of %d, output %d bytes", n, len(tc.in), len(f.Out))
				}
			}
			if n := testing.AllocsPerRun(1000, serve); n != 0 {
				t.Errorf("whole: %v allocations per exchange, want 0", n)
			}
			split := len(tc.in) / 2
			serveSplit := func() {
				s.maxID = 0
				f.Out = f.Out[:0]
				n := s.Serve(tc.in[:split], f)
				n += s.Serve(tc.in[n:], f)
				if n != len(tc.in) {
					t.Fatalf("consumed %d of %d", n, len(tc.in))
				}
			}
			if n := testing.AllocsPerRun(1000, serveSplit); n != 0 {
				t.Errorf("split: %v allocations per exchange, want 0", n)
			}
		})
	}
}
