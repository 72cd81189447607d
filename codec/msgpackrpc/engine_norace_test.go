//go:build !race

package msgpackrpc_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// TestEngineAllocsEcho: an echo call through the whole engine — read,
// walk, call, encode, write — allocates nothing on the server. The client
// is a raw connection with buffers of its own; what allocates in the
// process is counted, client included.
func TestEngineAllocsEcho(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 1}, nil)
	c := dial(t, addr)
	req := msgpackrpc.AppendRequest(nil, 1, "echo", mpack.AppendStr([]byte{0x91}, "hello"))
	want := msgpackrpc.AppendResult(nil, 1, mpack.AppendStr(nil, "hello"))
	got := make([]byte, len(want))
	c.SetDeadline(time.Now().Add(30 * time.Second))
	call := func() {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 { // warm up: buffers, pools, the loop's scratch
		call()
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	const calls = 20000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range calls {
		call()
	}
	runtime.ReadMemStats(&after)
	// Some runtime and netpoll bookkeeping allocates now and then, whatever
	// is served; one allocation per call would be 20000.
	if n := after.Mallocs - before.Mallocs; n > calls/100 {
		t.Errorf("got %d allocations for %d calls, want almost none", n, calls)
	}
	t.Logf("%d allocations, %d bytes for %d calls", after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc, calls)
}

// TestEngineIdleConnMemory: an idle connection that was served costs the
// engine well under 1 KB of heap. The clients are raw sockets, which take
// no Go heap in this process.
func TestEngineIdleConnMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2000 connections")
	}
	e, addr := start(t, engine.Config{Loops: 2}, nil)
	ping := msgpackrpc.AppendRequest(nil, 1, "ping", nil)
	pong := msgpackrpc.AppendResult(nil, 1, mpack.AppendStr(nil, "pong"))
	// Half a frame first, then the rest: every connection borrows a Walker
	// and must give it back.
	per := enginetest.IdleHeapPerConn(t, e, addr, 2000, [][]byte{ping[:3], ping[3:]}, pong)
	t.Logf("%.0f bytes of heap per idle connection", per)
	if per > 1024 {
		t.Errorf("got %.0f bytes of heap per idle connection, want at most 1024", per)
	}
}
