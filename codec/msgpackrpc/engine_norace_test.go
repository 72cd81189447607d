//go:build !race

package msgpackrpc_test

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
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
	const conns = 2000
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2*conns+100 {
		t.Skipf("descriptor limit %d too low for %d connections", rl.Cur, conns)
	}
	sa := sockaddr(t, addr)
	fds := make([]int, 0, conns)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	ping := msgpackrpc.AppendRequest(nil, 1, "ping", nil)
	pong := msgpackrpc.AppendResult(nil, 1, mpack.AppendStr(nil, "pong"))
	buf := make([]byte, 64)
	// Half a frame first, then the rest: every connection borrows a Walker
	// and must give it back.
	serve := func(fd int) {
		for _, part := range [][]byte{ping[:3], ping[3:]} {
			if _, err := unix.Write(fd, part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Microsecond)
		}
		n := 0
		for n < len(pong) {
			m, err := unix.Read(fd, buf[n:])
			if err != nil || m <= 0 {
				t.Fatalf("read: %d %v", m, err)
			}
			n += m
		}
		if !bytes.Equal(buf[:n], pong) {
			t.Fatalf("got %q, want %q", buf[:n], pong)
		}
	}
	open := func(n int) {
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			fds = append(fds, fd)
			if err := unix.Connect(fd, sa); err != nil {
				t.Fatal(err)
			}
			serve(fd)
		}
	}
	open(100) // warm up
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	open(conns)
	if got := e.Stats().Total().Connections; got != conns+100 {
		t.Fatalf("got %d connections open, want %d", got, conns+100)
	}
	per := float64(int64(heap())-int64(before)) / conns
	t.Logf("%.0f bytes of heap per idle connection", per)
	if per > 1024 {
		t.Errorf("got %.0f bytes of heap per idle connection, want at most 1024", per)
	}
}

func sockaddr(t *testing.T, addr string) unix.Sockaddr {
	t.Helper()
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	return sa
}
