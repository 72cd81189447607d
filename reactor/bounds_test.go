package reactor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// writeEvery writes piece to c every d until stop is closed or a write
// fails, on its own goroutine; the returned channel closes when it stops.
func writeEvery(c net.Conn, d time.Duration, piece string, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := io.WriteString(c, piece); err != nil {
					return
				}
			}
		}
	}()
	return done
}

// readLineWithin reads one line from br, failing the test past d.
func readLineWithin(t *testing.T, c net.Conn, br *bufio.Reader, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	l, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %q, %v", l, err)
	}
	return l
}

// A frame that keeps the minimum rate runs past the header timeout, window
// after window; one that trickles below it is refused at the end of its
// first window, although it never goes silent for a whole timeout.
func TestMinRate(t *testing.T) {
	const timeout = 300 * time.Millisecond
	_, addr := startLine(t, Config{HeaderTimeout: timeout, MinRate: 200, Tick: 20 * time.Millisecond})

	steady := dialLine(t, addr)
	br := bufio.NewReader(steady)
	io.WriteString(steady, "echo ")
	for range 24 { // 40 bytes every 50 ms: 800 B/s for 1.2 s, four windows
		time.Sleep(50 * time.Millisecond)
		io.WriteString(steady, strings.Repeat("a", 40))
	}
	io.WriteString(steady, "\n")
	if got := readLineWithin(t, steady, br, 2*time.Second); got != strings.Repeat("a", 960)+"\n" {
		t.Fatalf("steady frame: got %.40q..., want its echo", got)
	}

	trickle := dialLine(t, addr)
	t0 := time.Now()
	io.WriteString(trickle, "echo ")
	stop := make(chan struct{})
	done := writeEvery(trickle, 50*time.Millisecond, "b", stop) // 20 B/s
	got := readUntilEOF(t, trickle, 3*time.Second)
	took := time.Since(t0)
	close(stop)
	<-done
	if string(got) != "timeout head\n" {
		t.Fatalf("trickle: got %q, want the timeout", got)
	}
	if took < timeout-50*time.Millisecond || took > 2*timeout+200*time.Millisecond {
		t.Errorf("trickle refused after %v, want at the end of its first %v window", took, timeout)
	}
}

// Heartbeats keep a connection alive but are no progress of the call it
// owes: a call whose params stop coming is refused at the body timeout
// however many heartbeats come, while one whose data keeps coming runs on.
func TestHeartbeatsAreNotProgress(t *testing.T) {
	const timeout = 300 * time.Millisecond
	_, addr := startLine(t, Config{BodyTimeout: timeout, MinRate: 20, Tick: 20 * time.Millisecond})

	hb := dialLine(t, addr)
	br := bufio.NewReader(hb)
	io.WriteString(hb, "hold 1000\n")
	if l := readLineWithin(t, hb, br, time.Second); l != "held\n" {
		t.Fatalf("got %q", l)
	}
	t0 := time.Now()
	stop := make(chan struct{})
	done := writeEvery(hb, 30*time.Millisecond, "hb\n", stop)
	if l := readLineWithin(t, hb, br, 3*time.Second); l != "timeout body\n" {
		t.Fatalf("heartbeats only: got %q, want the timeout", l)
	}
	took := time.Since(t0)
	close(stop)
	<-done
	if took > 2*timeout+200*time.Millisecond {
		t.Errorf("refused after %v, want about %v", took, timeout)
	}

	data := dialLine(t, addr)
	br = bufio.NewReader(data)
	io.WriteString(data, "hold 1000\n")
	readLineWithin(t, data, br, time.Second)
	for i := range 20 { // 1 s, three windows: 140 B/s of data
		time.Sleep(50 * time.Millisecond)
		io.WriteString(data, "hb\necho x\n")
		if l := readLineWithin(t, data, br, time.Second); l != "x\n" {
			t.Fatalf("data %d: got %q, want x", i, l)
		}
	}
}

// The input budget: past it, a connection whose partial input grows past
// its floor is refused with its session's answer and closed, while one
// below the floor is still served; what the refused one held is free at
// once.
func TestInputBudget(t *testing.T) {
	const budget = 256 << 10
	srv, addr := startLine(t, Config{InputBudget: budget})
	if f := srv.budget.floor; f != 4<<10 {
		t.Fatalf("floor %d, want 4 KiB (budget / 2 × cap, clamped)", f)
	}
	held := func() int64 { return srv.Stats().Total().InputHeld }

	// Within the budget, partial input is held.
	a := dialLine(t, addr)
	io.WriteString(a, "echo "+strings.Repeat("a", 200<<10))
	waitFor(t, "200 KiB held", func() bool { return held() >= 200<<10 })

	// Past it, the connection that grows is refused.
	b := dialLine(t, addr)
	io.WriteString(b, "echo "+strings.Repeat("b", 100<<10))
	if got := readUntilEOF(t, b, 3*time.Second); string(got) != "overload head\n" {
		t.Fatalf("over the budget: got %q, want the overload answer", got)
	}
	if h := held(); h > budget {
		t.Errorf("%d bytes held after the refusal, want at most the budget %d", h, budget)
	}

	// While the process is over its budget (the offload pool's copies,
	// say), small partial input is still served; large is not.
	srv.budget.extra.Add(budget)
	defer srv.budget.extra.Add(-budget)
	small := dialLine(t, addr)
	br := bufio.NewReader(small)
	io.WriteString(small, "echo "+strings.Repeat("s", 2<<10))
	time.Sleep(50 * time.Millisecond)
	io.WriteString(small, "s\n")
	if l := readLineWithin(t, small, br, 2*time.Second); len(l) != 2<<10+2 {
		t.Fatalf("below the floor: got %d bytes, want the echo", len(l))
	}
	big := dialLine(t, addr)
	io.WriteString(big, "echo "+strings.Repeat("g", 8<<10))
	if got := readUntilEOF(t, big, 3*time.Second); string(got) != "overload head\n" {
		t.Fatalf("past the floor: got %q, want the overload answer", got)
	}
	// What a session holds counts too.
	h := dialLine(t, addr)
	io.WriteString(h, "hold 10000\n")
	if got := readUntilEOF(t, h, 3*time.Second); string(got) != "held\noverload body\n" {
		t.Fatalf("held by the session: got %q, want the overload answer", got)
	}
	if n := srv.Stats().Total().Overloaded; n != 3 {
		t.Errorf("%d connections counted as overloaded, want 3", n)
	}

	// The first connection was never refused: its frame completes.
	io.WriteString(a, "\n")
	ba := bufio.NewReader(a)
	if l := readLineWithin(t, a, ba, 2*time.Second); len(l) != 200<<10+1 {
		t.Fatalf("the connection within the budget got %d bytes, want its echo", len(l))
	}
	waitFor(t, "nothing held", func() bool { return held() == 0 })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// served reports whether a new connection to addr is served: it answers
// an echo.
func served(addr string) (net.Conn, bool) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, false
	}
	c.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(c, "echo x\n")
	l, err := bufio.NewReader(c).ReadString('\n')
	c.SetDeadline(time.Time{})
	if err != nil || l != "x\n" {
		c.Close()
		return nil, false
	}
	return c, true
}

// Each listener has a share of the connection slots: a flood on one takes
// at most its own cap and never the slots reserved for the others; what it
// cannot take is reset at once.
func TestListenerShares(t *testing.T) {
	s := New(Config{MaxConns: 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var addrs [3]string
	for i, l := range []Listener{
		{Addr: "127.0.0.1:0", Codec: lineCodec{}, Reserve: -1}, // the flooded one
		{Addr: "127.0.0.1:0", Codec: lineCodec{}, Reserve: 3},
		{Addr: "127.0.0.1:0", Codec: lineCodec{}, MaxConns: 2, Reserve: -1},
	} {
		a, err := s.Listen(l)
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = a.String()
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	<-s.Ready()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	count := func(addr string, tries int) int {
		n := 0
		for range tries {
			if c, ok := served(addr); ok {
				open = append(open, c)
				n++
			}
		}
		return n
	}
	if n := count(addrs[0], 12); n != 7 {
		t.Fatalf("the flood got %d of 10 slots, want 7 (3 reserved for another listener)", n)
	}
	if n := count(addrs[1], 5); n != 3 {
		t.Fatalf("the listener with a reserve of 3 got %d connections during the flood, want 3", n)
	}
	if n := count(addrs[2], 2); n != 0 {
		t.Fatalf("a listener got %d connections with every slot taken, want 0", n)
	}
	for _, c := range open[:5] { // the flood leaves in part
		c.Close()
	}
	waitFor(t, "slots back", func() bool { return s.Stats().Listeners[0].Connections == 2 })
	if n := count(addrs[2], 4); n != 2 {
		t.Errorf("a listener capped at 2 got %d connections, want 2", n)
	}
	st := s.Stats()
	if st.Listeners[0].Refused != 5 || st.Listeners[2].Refused != 4 {
		t.Errorf("refused per listener: %+v, want 5, 2, 4", st.Listeners)
	}
}

// A connection dropped because its peer stopped reading is reset: the
// kernel discards its unsent output instead of holding it in an orphaned
// socket (FIN-WAIT-1 with a full send queue) that the peer, with its
// window closed, could keep for minutes.
func TestForcedDropResets(t *testing.T) {
	srv, addr := startLine(t, Config{CloseTimeout: 300 * time.Millisecond, Tick: 20 * time.Millisecond})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
	}}
	var conns []net.Conn
	for range 4 {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "big 8000000\n") // then never read
		conns = append(conns, c)
	}
	_, port, _ := net.SplitHostPort(addr)
	waitFor(t, "the connections", func() bool { return srv.Stats().Total().Accepted == 4 })
	waitFor(t, "the drops", func() bool { return srv.Stats().Total().Connections == 0 })
	most := 0
	for range 5 {
		most = max(most, serverSockets(t, port))
		time.Sleep(50 * time.Millisecond)
	}
	if most != 0 {
		t.Errorf("%d sockets of the server's port left besides the listener, want none (reset)", most)
	}
	if r := srv.Stats().Total().Resets; r != 4 {
		t.Errorf("%d resets counted, want 4", r)
	}
	// The client learns of it as a reset, after what it had received.
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, conns[0])
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read: %v, want a reset", err)
	}
}

// serverSockets counts the TCP sockets whose local port is port and that
// are not listening, from /proc/net/tcp and tcp6.
func serverSockets(t *testing.T, port string) int {
	t.Helper()
	p, _ := strconv.Atoi(port)
	want := fmt.Sprintf(":%04X", p)
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("no %s: %v", f, err)
		}
		for _, line := range bytes.Split(b, []byte("\n"))[1:] {
			fields := strings.Fields(string(line))
			if len(fields) < 4 {
				continue
			}
			if strings.HasSuffix(fields[1], want) && fields[3] != "0A" { // 0A: LISTEN
				n++
			}
		}
	}
	return n
}

// The connection's context is cancelled when it closes, so that work done
// for it elsewhere can stop.
func TestConnContextCancelledOnClose(t *testing.T) {
	_, addr := startLine(t, Config{})
	c := dialLine(t, addr)
	io.WriteString(c, "ctx\n")
	var ctx context.Context
	select {
	case ctx = <-connContexts:
	case <-time.After(3 * time.Second):
		t.Fatal("no context")
	}
	if ctx.Err() != nil {
		t.Fatal("cancelled while the connection is open")
	}
	c.Close()
	select {
	case <-ctx.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("not cancelled after the connection closed")
	}
}

// The reclaimer frees memory once the input held or the connections fall
// to half their peak, or once a large heap stops growing, at most once
// every reclaimEvery, and not while holding steady.
func TestReclaimer(t *testing.T) {
	var runs atomic.Int32
	r := reclaimer{free: func() uint64 { runs.Add(1); return 0 }}
	now := time.Now()
	var heap heapStats
	step := func(held, open int64) {
		now = now.Add(time.Second)
		heap.allocs += 1 << 30 // busy: the heap rule stays out of it
		r.check(held, open, heap, now)
		for r.running.Load() {
			time.Sleep(time.Millisecond)
		}
	}
	step(0, 10)
	step(100<<20, 500) // a storm
	step(90<<20, 500)
	if n := runs.Load(); n != 0 {
		t.Fatalf("%d reclaims during the storm, want 0", n)
	}
	step(10<<20, 400) // it passes...
	step(5<<20, 300)
	if n := runs.Load(); n != 0 {
		t.Fatalf("%d reclaims while the attackers leave, want 0", n)
	}
	step(5<<20, 300) // ...and is over
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d reclaims after the storm, want 1", n)
	}
	step(100<<20, 5000)
	step(0, 0)
	step(0, 0) // another at once: too soon
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d reclaims, want still 1 within %v", n, reclaimEvery)
	}
	now = now.Add(reclaimEvery)
	step(0, 0) // the peaks were kept: it runs now
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d reclaims, want 2", n)
	}
	step(0, 0)
	now = now.Add(reclaimEvery)
	step(0, 0) // nothing fell since
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d reclaims with nothing held, want 2", n)
	}

	// A heap full of garbage, in a process gone quiet.
	quiet := func(held uint64) {
		now = now.Add(reclaimEvery)
		heap.held = held
		heap.allocs += held / 100
		r.check(0, 0, heap, now)
		for r.running.Load() {
			time.Sleep(time.Millisecond)
		}
	}
	r.lastLive.Store(0)
	quiet(32 << 20) // small: left alone
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d reclaims for a small heap, want 2", n)
	}
	quiet(500 << 20)
	if n := runs.Load(); n != 3 {
		t.Fatalf("%d reclaims for a large quiet heap, want 3", n)
	}
	r.free = func() uint64 { runs.Add(1); return 400 << 20 } // it was live
	quiet(500 << 20)
	quiet(500 << 20) // still live: not again
	if n := runs.Load(); n != 4 {
		t.Fatalf("%d reclaims for a heap that stays live, want 4", n)
	}
	quiet(850 << 20) // grew, but not to twice what was live (and 64 MiB)
	if n := runs.Load(); n != 4 {
		t.Fatalf("%d reclaims, want 4", n)
	}
	heap.allocs += 10 << 30 // busy again
	quiet(2 << 30)
	if n := runs.Load(); n != 4 {
		t.Fatalf("%d reclaims while busy, want 4", n)
	}
	quiet(2 << 30) // quiet again
	if n := runs.Load(); n != 5 {
		t.Fatalf("%d reclaims, want 5", n)
	}
}
