// Package enginetest starts real engines for the tests of the packages
// that plug into them, and measures what they cost: one copy of the
// start-wait-shutdown dance and of the idle-memory measurement.
package enginetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tokamak-io/tokamak/engine"
)

// Logger logs at debug level to stderr with -v, else discards: the
// errors tests provoke on purpose are not worth seeing.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run runs e, whose listeners are added, until the test ends: it returns
// once e is ready, and at cleanup shuts e down within 10 s and reports a
// failed shutdown or Run.
func Run(t testing.TB, e *engine.Engine) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	select {
	case <-e.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("engine not ready after 5s")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// IdleHeapPerConn opens conns connections to addr (an IPv4 address of e)
// as raw sockets, which take no Go heap in this process. On each it writes
// the parts of request one after another (a frame split in two makes the
// codec borrow, and give back, its resume state), reads want back, and
// leaves the connection open and idle. It returns the heap they cost the
// whole process, per connection; 100 connections are opened first to warm
// up, and the sockets are closed when the test ends. It skips the test
// when the descriptor limit is too low.
func IdleHeapPerConn(t testing.TB, e *engine.Engine, addr string, conns int, request [][]byte, want []byte) float64 {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < uint64(2*conns+300) {
		t.Skipf("descriptor limit %d too low for %d connections", rl.Cur, conns)
	}
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
	buf := make([]byte, len(want))
	exchange := func(fd int) {
		for _, part := range request {
			if _, err := unix.Write(fd, part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Microsecond)
		}
		for n := 0; n < len(want); {
			m, err := unix.Read(fd, buf[n:])
			if err != nil || m <= 0 {
				t.Fatalf("read: %d %v", m, err)
			}
			n += m
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("got % x, want % x", buf, want)
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
			exchange(fd)
		}
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	open(100)
	before := heap()
	open(conns)
	if got := e.Stats().Total().Connections; got != int64(conns+100) {
		t.Fatalf("got %d connections open, want %d", got, conns+100)
	}
	return float64(int64(heap())-int64(before)) / float64(conns)
}

// HeldPeak samples the input e holds — its loops' and its offload pool's
// copies, which count against its input budget — every 2 ms until the
// returned stop is called, which returns the largest value seen.
func HeldPeak(e *engine.Engine) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			st := e.Stats()
			peak.Store(max(peak.Load(), st.Total().InputHeld+st.OffloadHeld))
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// HeldBound is the most input an engine with input budget budget may hold
// while conns connections grow at once: the budget, and for each
// connection what it may hold below its floor (at most 64 KiB) and one
// read (64 KiB) that takes it past the budget before it is refused.
func HeldBound(budget int64, conns int) int64 { return budget + int64(conns)*(128<<10) }
