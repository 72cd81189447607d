//go:build !race

package cocaine

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tokamak-io/tokamak/engine"
)

// TestEngineIdleConnMemory: a connection that ran an echo exchange and is
// now idle costs the whole engine under 1 KB of heap. The clients are raw
// sockets, which take no Go heap in this process.
func TestEngineIdleConnMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2000 connections")
	}
	const conns = 2000
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2*conns+100 {
		t.Skipf("descriptor limit %d too low for %d connections", rl.Cur, conns)
	}
	e, addr, _, _ := startEngine(t, engine.Config{Loops: 2})
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	fds := make([]int, 0, conns+100)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	in := join(invoke(2, "echo"), chunk(2, "idle"), choke(2))
	want := join(chunk(2, "idle"), choke(2))
	buf := make([]byte, 64)
	// The exchange in two writes: every connection borrows a Walker and a
	// channel table, and must give them back.
	serve := func(fd int) {
		for _, part := range [][]byte{in[:13], in[13:]} {
			if _, err := unix.Write(fd, part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Microsecond)
		}
		n := 0
		for n < len(want) {
			m, err := unix.Read(fd, buf[n:])
			if err != nil || m <= 0 {
				t.Fatalf("read: %d %v", m, err)
			}
			n += m
		}
		if !bytes.Equal(buf[:n], want) {
			t.Fatalf("got % x, want % x", buf[:n], want)
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
