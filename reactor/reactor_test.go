package reactor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// lineCodec is a test protocol: one command per line.
//
//	echo X   → "X\n"
//	big N    → N bytes of 'x', then close
//	close    → "bye\n", then close
//	async X  → "X\n" from another goroutine, through Post
//	later D X → "X\n" after D ms through Post, serving on meanwhile (Busy)
//	stream N S → N numbered lines of S bytes, one per PostWritable
//	panic    → the session panics
//	hold N   → "held\n"; the session holds N more bytes (codec.Flow.Held) and owes the rest of a call (PhaseBody)
//	free     → "freed\n"; it holds nothing
//	hb       → nothing: a heartbeat (codec.Flow.Control)
//	ctx      → "ctx\n"; the connection's context goes to connContexts
//
// A refusal answers "<reason> <phase>\n" (and the reactor closes); while
// draining every reply closes.
type lineCodec struct{}

// connContexts receives the contexts that "ctx" asks for.
var connContexts = make(chan context.Context, 16)

type lineSession struct {
	c       codec.Conn
	pending int // "later" answers not posted yet
	held    int // bytes "held" for a call in progress (hold N)
}

func (lineCodec) NewSession(c codec.Conn) codec.Session { return &lineSession{c: c} }

// Serve serves the lines; while it holds bytes (hold N, until free) the
// connection owes the rest of a call: PhaseBody, as Cocaine with a unary
// call's params.
func (s *lineSession) Serve(in []byte, f *codec.Flow) int {
	n := s.serve(in, f)
	if s.held > 0 && f.Phase != codec.PhaseWait {
		f.Phase = codec.PhaseBody
	}
	f.Held = s.held
	return n
}

func (s *lineSession) serve(in []byte, f *codec.Flow) int {
	n := 0
	for len(f.Out) < f.Limit || n == 0 {
		i := bytes.IndexByte(in[n:], '\n')
		if i < 0 {
			if n < len(in) {
				f.Phase = codec.PhaseHead
			} else {
				f.Phase = codec.PhaseIdle
			}
			return n
		}
		line := string(in[n : n+i])
		n += i + 1
		f.Requests++
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "echo":
			f.Out = append(f.Out, arg...)
			f.Out = append(f.Out, '\n')
		case "big":
			size, _ := strconv.Atoi(arg)
			f.Out = append(f.Out, bytes.Repeat([]byte{'x'}, size)...)
			f.Close = true
			return n
		case "close":
			f.Out = append(f.Out, "bye\n"...)
			f.Close = true
			return n
		case "async":
			f.Phase = codec.PhaseWait
			go func() {
				time.Sleep(20 * time.Millisecond)
				s.c.Post(func(f *codec.Flow) {
					f.Out = append(f.Out, arg+"\n"...)
					f.Phase = codec.PhaseIdle
				})
			}()
			return n
		case "later":
			ms, x, _ := strings.Cut(arg, " ")
			d, _ := strconv.Atoi(ms)
			s.pending++
			f.Busy = true
			go func() {
				time.Sleep(time.Duration(d) * time.Millisecond)
				s.c.Post(func(f *codec.Flow) {
					f.Out = append(f.Out, x+"\n"...)
					s.pending--
					f.Busy = s.pending > 0
					f.Close = f.Draining && !f.Busy
				})
			}()
			continue
		case "stream", "bstream":
			// stream <blocks> <size>: numbered lines of size bytes, each
			// added by its own PostWritable, the next posted by the last.
			// bstream serves input meanwhile (Busy), stream waits.
			busy := cmd == "bstream"
			a, b, _ := strings.Cut(arg, " ")
			blocks, _ := strconv.Atoi(a)
			size, _ := strconv.Atoi(b)
			i := 0
			var next func(f *codec.Flow)
			next = func(f *codec.Flow) {
				f.Out = fmt.Appendf(f.Out, "%08d", i)
				f.Out = append(f.Out, bytes.Repeat([]byte{'s'}, size-9)...)
				f.Out = append(f.Out, '\n')
				i++
				streamed.Add(1)
				if i < blocks {
					s.c.PostWritable(next)
					return
				}
				f.Phase, f.Busy = codec.PhaseIdle, false
			}
			s.c.PostWritable(next)
			if busy {
				f.Busy = true
				continue
			}
			f.Phase = codec.PhaseWait
			return n
		case "panic":
			panic("session bug")
		case "hold":
			size, _ := strconv.Atoi(arg)
			s.held += size
			f.Out = append(f.Out, "held\n"...)
		case "free":
			s.held = 0
			f.Out = append(f.Out, "freed\n"...)
		case "hb": // a heartbeat: control, no answer
			f.Control += len(line) + 1
		case "ctx": // hands the connection's context to the test
			connContexts <- s.c.Context()
			f.Out = append(f.Out, "ctx\n"...)
		default:
			f.Out = append(f.Out, "?\n"...)
			f.Errors++
		}
		if f.Draining {
			f.Close = true
			return n
		}
	}
	f.Phase = codec.PhaseIdle
	return n
}

// Refuse answers and leaves the close to the reactor, which closes a
// refused session that waits for no handed-off work.
func (s *lineSession) Refuse(r codec.Refusal, p codec.Phase, _ []byte, f *codec.Flow) {
	f.Out = append(f.Out, r.String()+" "+p.String()+"\n"...)
}

func (s *lineSession) Close() {}

func startLine(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(cfg)
	addr, err := s.Listen(Listener{Addr: "127.0.0.1:0", Codec: lineCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return s, addr.String()
}

func dialLine(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readUntilEOF(t *testing.T, c net.Conn, d time.Duration) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v after %d bytes", err, len(b))
	}
	return b
}

func TestBigReplyArrivesWholeBeforeClose(t *testing.T) {
	_, addr := startLine(t, Config{})
	c := dialLine(t, addr)
	const size = 32 << 20
	io.WriteString(c, "big "+strconv.Itoa(size)+"\necho never\n")
	time.Sleep(200 * time.Millisecond) // let the output back up in the server
	b := readUntilEOF(t, c, 10*time.Second)
	if len(b) != size {
		t.Fatalf("got %d bytes, want %d", len(b), size)
	}
}

func TestPostReturnsWorkToTheLoop(t *testing.T) {
	_, addr := startLine(t, Config{})
	c := dialLine(t, addr)
	// The echo waits behind the async command: order is kept.
	io.WriteString(c, "async one\necho two\nasync three\nclose\n")
	b := readUntilEOF(t, c, 5*time.Second)
	if got, want := string(b), "one\ntwo\nthree\nbye\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTimeouts(t *testing.T) {
	_, addr := startLine(t, Config{HeaderTimeout: 300 * time.Millisecond, IdleTimeout: 500 * time.Millisecond})
	tests := []struct {
		name string
		send string
		want string
		min  time.Duration
	}{
		{"head", "ech", "timeout head\n", 300 * time.Millisecond},
		{"idle", "", "timeout idle\n", 500 * time.Millisecond},
		{"idle after a reply", "echo a\n", "a\ntimeout idle\n", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialLine(t, addr)
			t0 := time.Now()
			io.WriteString(c, tt.send)
			b := readUntilEOF(t, c, 3*time.Second)
			took := time.Since(t0)
			if string(b) != tt.want {
				t.Errorf("got %q, want %q", b, tt.want)
			}
			if took < tt.min-100*time.Millisecond || took > tt.min+time.Second {
				t.Errorf("closed after %v, want about %v", took, tt.min)
			}
		})
	}
}

func TestSessionPanicDropsOnlyItsConnection(t *testing.T) {
	s, addr := startLine(t, Config{})
	by := dialLine(t, addr)
	br := bufio.NewReader(by)
	io.WriteString(by, "echo before\n")
	if l, _ := br.ReadString('\n'); l != "before\n" {
		t.Fatalf("bystander got %q", l)
	}
	c := dialLine(t, addr)
	io.WriteString(c, "panic\n")
	readUntilEOF(t, c, 3*time.Second)
	io.WriteString(by, "echo after\n")
	by.SetReadDeadline(time.Now().Add(3 * time.Second))
	if l, _ := br.ReadString('\n'); l != "after\n" {
		t.Fatalf("bystander got %q after the panic", l)
	}
	if p := s.Stats().Total().Panics; p != 1 {
		t.Errorf("panics = %d, want 1", p)
	}
}

func TestBackpressurePausesAndResumes(t *testing.T) {
	s, addr := startLine(t, Config{HighWater: 64 << 10, LowWater: 16 << 10, MaxInboundPaused: 64 << 20})
	c := dialSmallWindow(t, addr) // the kernel must not absorb the replies
	const n = 20000
	line := strings.Repeat("y", 1000)
	var req bytes.Buffer
	for i := range n {
		req.WriteString("echo " + strconv.Itoa(i) + line + "\n")
	}
	// Send everything without reading: the server must stop answering at
	// the high-water mark instead of buffering 20 MB of output.
	go c.Write(req.Bytes())
	time.Sleep(300 * time.Millisecond)
	if got := s.Stats().Total().Requests; got >= n {
		t.Fatalf("served all %d requests while the client read nothing", got)
	}
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if want := strconv.Itoa(i) + line + "\n"; l != want {
			t.Fatalf("reply %d out of order: %.20q", i, l)
		}
	}
}

// streamed counts the lines the "stream" command added.
var streamed atomic.Int64

// dialSmallWindow connects with a 256 KiB receive buffer, set before
// connecting, so that the output held by the kernel stays far below the
// streams of the tests. Not smaller: loopback segments are 64 KiB, and
// with a buffer of a few KiB (16 KiB here once) the window falls below a
// segment, the sender waits on zero-window probes, and on a loaded
// machine the transfer stalls for longer than the tests wait (seen in
// CI: the server had written everything, the client had read 90% of it).
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 256<<10)
		})
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPostWritableWaitsForTheOutputToDrain(t *testing.T) {
	_, addr := startLine(t, Config{HighWater: 64 << 10, LowWater: 16 << 10})
	c := dialSmallWindow(t, addr)
	streamed.Store(0)
	const n, size = 20000, 1000
	io.WriteString(c, "stream "+strconv.Itoa(n)+" "+strconv.Itoa(size)+"\necho after\n")
	// Without a reader the stream must stop at the high-water mark (plus
	// what the kernel buffers) instead of queueing 20 MB.
	time.Sleep(300 * time.Millisecond)
	if got := streamed.Load(); got >= n/2 {
		t.Fatalf("the stream added %d of %d lines while the client read nothing", got, n)
	}
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(l) != size || l[:8] != fmt.Sprintf("%08d", i) {
			t.Fatalf("line %d: %d bytes starting %.8q", i, len(l), l)
		}
	}
	// The echo behind the stream is served once the stream ends.
	if l, err := br.ReadString('\n'); err != nil || l != "after\n" {
		t.Fatalf("after the stream: %q, %v", l, err)
	}
}

// TestPausedResumesBeforeTheSweep: a connection waiting for its output
// to drain is looked at again soon after the peer reads, not at the next
// sweep. With a 10 s tick the first sweep comes 10 s after the start; the
// stream pauses within milliseconds, the client reads from 300 ms on, and
// the whole stream must arrive long before that sweep.
func TestPausedResumesBeforeTheSweep(t *testing.T) {
	_, addr := startLine(t, Config{HighWater: 64 << 10, LowWater: 16 << 10, Tick: 10 * time.Second})
	c := dialSmallWindow(t, addr)
	streamed.Store(0)
	const n, size = 12000, 1000 // 12 MB: the kernel holds a few
	start := time.Now()
	io.WriteString(c, "stream "+strconv.Itoa(n)+" "+strconv.Itoa(size)+"\n")
	time.Sleep(300 * time.Millisecond)
	if got := streamed.Load(); got >= n/2 {
		t.Fatalf("the stream added %d of %d lines while the client read nothing", got, n)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, n*size)); err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the stream took %v: it waited for the sweeps", d)
	}
}

// TestPostWritableResumesWithInput: input that arrives while a connection
// is paused for PostWritable work, and resumes it, must not strand that
// work (the stream stalled for good when the input's serve resumed it).
func TestPostWritableResumesWithInput(t *testing.T) {
	_, addr := startLine(t, Config{HighWater: 64 << 10, LowWater: 16 << 10})
	c := dialLine(t, addr)
	const n, size = 8000, 1000
	io.WriteString(c, "bstream "+strconv.Itoa(n)+" "+strconv.Itoa(size)+"\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // input all along: some lands while paused, some as it drains
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				io.WriteString(c, "echo e\n")
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	lines := 0
	for lines < n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d of %d stream lines: %v", lines, n, err)
		}
		if l != "e\n" {
			lines++
		}
	}
}

func TestPausedConnectionThatKeepsSendingIsClosed(t *testing.T) {
	s, addr := startLine(t, Config{HighWater: 16 << 10, MaxInboundPaused: 256 << 10})
	c := dialLine(t, addr)
	chunk := bytes.Repeat([]byte("echo "+strings.Repeat("z", 250)+"\n"), 256)
	var err error
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	sent := 0
	for sent < 64<<20 && err == nil {
		var n int
		n, err = c.Write(chunk)
		sent += n
	}
	if err == nil {
		t.Fatalf("the server took %d MB from a client that never reads", sent>>20)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server neither read nor closed: %v", err)
	}
	if s.Stats().Total().Errors == 0 {
		t.Errorf("the cut-off was not counted")
	}
}

func TestShutdownDrains(t *testing.T) {
	s := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	addr, err := s.Listen(Listener{Addr: "127.0.0.1:0", Codec: lineCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	<-s.Ready()

	idle := dialLine(t, addr.String())
	busy := dialLine(t, addr.String())
	io.WriteString(busy, "ech") // a request in progress
	time.Sleep(100 * time.Millisecond)

	var wg sync.WaitGroup
	wg.Add(1)
	var shutErr error
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutErr = s.Shutdown(ctx)
	}()
	// The idle connection is closed without a word.
	if b := readUntilEOF(t, idle, 3*time.Second); len(b) != 0 {
		t.Errorf("idle connection got %q", b)
	}
	// New connections are refused.
	if nc, err := net.Dial("tcp", addr.String()); err == nil {
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, _ := nc.Read(make([]byte, 1)); n != 0 {
			t.Errorf("a new connection was served while draining")
		}
		nc.Close()
	}
	// The request in progress is finished and answered, then closed.
	io.WriteString(busy, "o last\necho never\n")
	if got := string(readUntilEOF(t, busy, 3*time.Second)); got != "last\n" {
		t.Errorf("busy connection got %q, want %q", got, "last\n")
	}
	wg.Wait()
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestHeaderTimerRestartsWithEachFrame: a steady stream whose reads never
// end on a frame boundary always has a partial frame buffered; its header
// timer must run from the start of the frame in progress, not of the first.
func TestHeaderTimerRestartsWithEachFrame(t *testing.T) {
	_, addr := startLine(t, Config{HeaderTimeout: 400 * time.Millisecond})
	c := dialLine(t, addr)
	br := bufio.NewReader(c)
	io.WriteString(c, "ec")
	for i := range 12 { // 12 × 100 ms: three times the header timeout
		time.Sleep(100 * time.Millisecond)
		io.WriteString(c, "ho "+strconv.Itoa(i)+"\nec")
		c.SetReadDeadline(time.Now().Add(time.Second))
		l, err := br.ReadString('\n')
		if want := strconv.Itoa(i) + "\n"; err != nil || l != want {
			t.Fatalf("reply %d: %q, %v; want %q", i, l, err, want)
		}
	}
}

// TestSlowReaderGetsTheWholeLastReply: CloseTimeout bounds a close that
// makes no progress, not a slow one.
func TestSlowReaderGetsTheWholeLastReply(t *testing.T) {
	_, addr := startLine(t, Config{CloseTimeout: 500 * time.Millisecond})
	c := dialLine(t, addr)
	// 32 MiB: far more than the kernel's socket buffers hold, so most of it
	// waits in the server's output buffer while the client reads slowly.
	const size = 32 << 20
	io.WriteString(c, "big "+strconv.Itoa(size)+"\n")
	buf := make([]byte, 128<<10)
	got := 0
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		n, err := c.Read(buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // ≤ 12.8 MB/s: seconds, many close timeouts
	}
	if got != size {
		t.Fatalf("got %d bytes, want %d", got, size)
	}
}

type nilCodec struct{}

func (nilCodec) NewSession(codec.Conn) codec.Session { return nil }

func TestConnStateNeverClosedWithoutOpen(t *testing.T) {
	var mu sync.Mutex
	var events []handlers.ConnState
	s := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConnState: func(c handlers.Conn, st handlers.ConnState) {
			mu.Lock()
			events = append(events, st)
			mu.Unlock()
		},
	})
	addr, err := s.Listen(Listener{Addr: "127.0.0.1:0", Codec: nilCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	<-s.Ready()
	defer func() {
		s.Shutdown(context.Background())
		<-done
	}()
	c := dialLine(t, addr.String())
	readUntilEOF(t, c, 3*time.Second) // a codec without a session: closed at once
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 0 {
		t.Fatalf("events %v for a connection never opened", events)
	}
}

// TestLargeReplyThenPipelinedInput: a reply larger than the loop keeps a
// buffer for, followed by requests already buffered: they are served
// without waiting for more input.
func TestLargeReplyThenPipelinedInput(t *testing.T) {
	_, addr := startLine(t, Config{HighWater: 64 << 10})
	c := dialLine(t, addr)
	big := strings.Repeat("b", 2<<20)
	io.WriteString(c, "echo "+big+"\necho after\n")
	br := bufio.NewReaderSize(c, 4<<20)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := br.ReadString('\n'); err != nil || len(l) != len(big)+1 {
		t.Fatalf("big reply: %d bytes, %v", len(l), err)
	}
	if l, err := br.ReadString('\n'); err != nil || l != "after\n" {
		t.Fatalf("then %q, %v; want %q", l, err, "after\n")
	}
}

// A connection with answers still out is not idle: the idle timeout does
// not close it and a drain waits for the answers.
func TestBusyConnectionIsNotIdle(t *testing.T) {
	srv, addr := startLine(t, Config{IdleTimeout: 200 * time.Millisecond})
	c := dialLine(t, addr)
	io.WriteString(c, "later 700 first\necho now\n")
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := br.ReadString('\n'); line != "now\n" {
		t.Fatalf("got %q, %v: input is served while a call is out", line, err)
	}
	if line, err := br.ReadString('\n'); line != "first\n" {
		t.Fatalf("got %q, %v, want the late answer: the idle timeout closed a busy connection", line, err)
	}
	// Idle again: the idle timeout applies.
	if b, err := io.ReadAll(br); err != nil || string(b) != "timeout idle\n" {
		t.Fatalf("after the idle timeout: %q, %v, want its answer and EOF", b, err)
	}
	c.Close() // the server lingers for our FIN

	c2 := dialLine(t, addr)
	io.WriteString(c2, "later 500 last\n")
	time.Sleep(50 * time.Millisecond)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	if b := readUntilEOF(t, c2, 5*time.Second); string(b) != "last\n" {
		t.Fatalf("got %q, want the answer before the drain closes the connection", b)
	}
	c2.Close()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// On a wildcard listener a connection's LocalAddr is the address the peer
// reached, not the wildcard (which is what gnet reports).
func TestLocalAddrIsTheAddressReached(t *testing.T) {
	got := make(chan net.Addr, 1)
	s := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConnState: func(c handlers.Conn, st handlers.ConnState) {
			if st == handlers.StateOpen {
				got <- c.LocalAddr()
			}
		},
	})
	addr, err := s.Listen(Listener{Addr: ":0", Codec: lineCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	<-s.Ready()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	}()
	port := addr.(*net.TCPAddr).Port
	c := dialLine(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	defer c.Close()
	a := (<-got).(*net.TCPAddr)
	if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port != port {
		t.Errorf("LocalAddr = %v, want 127.0.0.1:%d", a, port)
	}
}
