//go:build !race

package cocaine

import (
	"testing"

	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// TestEngineIdleConnMemory: a connection that ran an echo exchange and is
// now idle costs the whole engine under 1 KB of heap. The clients are raw
// sockets, which take no Go heap in this process.
func TestEngineIdleConnMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2000 connections")
	}
	const conns = 2000
	e, addr, _, _ := startEngine(t, engine.Config{Loops: 2})
	in := join(invoke(2, "echo"), chunk(2, "idle"), choke(2))
	want := join(chunk(2, "idle"), choke(2))
	// The exchange in two writes: every connection borrows a Walker and a
	// channel table, and must give them back.
	per := enginetest.IdleHeapPerConn(t, e, addr, conns, [][]byte{in[:13], in[13:]}, want)
	t.Logf("%.0f bytes of heap per idle connection", per)
	if per > 1024 {
		t.Errorf("got %.0f bytes of heap per idle connection, want at most 1024", per)
	}
}
