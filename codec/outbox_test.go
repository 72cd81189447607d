package codec

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/handlers"
)

// loopConn runs posted work on a goroutine of its own, one at a time, like
// an event loop; it refuses posts once closed.
type loopConn struct {
	mu     sync.Mutex
	closed bool
	work   chan func(*Flow)
	out    chan []byte // each flush's output
}

func newLoopConn() *loopConn {
	c := &loopConn{work: make(chan func(*Flow), 1024), out: make(chan []byte, 1024)}
	go func() {
		for fn := range c.work {
			var f Flow
			fn(&f)
			c.out <- f.Out
		}
	}()
	return c
}

func (c *loopConn) PostWritable(fn func(*Flow)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.work <- fn
	return true
}
func (c *loopConn) Post(fn func(*Flow)) bool     { return c.PostWritable(fn) }
func (*loopConn) LocalAddr() net.Addr            { return nil }
func (*loopConn) RemoteAddr() net.Addr           { return nil }
func (*loopConn) Loop() int                      { return 0 }
func (*loopConn) Value() any                     { return nil }
func (*loopConn) SetValue(any)                   {}
func (*loopConn) EngineContext() context.Context { return context.Background() }
func (*loopConn) Context() context.Context       { return context.Background() }
func (c *loopConn) close()                       { c.mu.Lock(); c.closed = true; c.mu.Unlock() }

func appendLine(s string) func([]byte) []byte {
	return func(q []byte) []byte { return append(append(q, s...), '\n') }
}

func TestOutboxKeepsOrderAndEndsOnce(t *testing.T) {
	c := newLoopConn()
	ended := make(chan string, 2)
	o := NewOutbox(c, 64, func(f *Flow) {
		f.Out = append(f.Out, "end\n"...)
		ended <- "end"
	})
	var want []byte
	for i := range 1000 {
		line := strconv.Itoa(i)
		if err := o.Append(true, appendLine(line)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		want = append(append(want, line...), '\n')
	}
	if err := o.End(true, appendLine("last")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "last\nend\n"...)
	<-ended
	if err := o.Append(true, appendLine("late")); err != handlers.ErrStreamClosed {
		t.Fatalf("Append after End: %v", err)
	}
	select {
	case <-o.Done():
	default:
		t.Fatal("Done not closed after End")
	}
	var got []byte
	for len(got) < len(want) {
		got = append(got, <-c.out...)
	}
	if string(got) != string(want) {
		t.Fatalf("output out of order:\n got %.80q\nwant %.80q", got, want)
	}
	select {
	case <-ended:
		t.Fatal("the end hook ran twice")
	case <-time.After(20 * time.Millisecond):
	}
}

// stallConn takes posts and runs them only when told.
type stallConn struct {
	loopConn
	posted chan func(*Flow)
}

func (c *stallConn) PostWritable(fn func(*Flow)) bool { c.posted <- fn; return true }

func TestOutboxWriterWaitsForTheLoop(t *testing.T) {
	c := &stallConn{posted: make(chan func(*Flow), 16)}
	o := NewOutbox(c, 10, nil)
	if err := o.Append(true, appendLine("0123456789")); err != nil { // fills the window
		t.Fatal(err)
	}
	wrote := make(chan error)
	go func() { wrote <- o.Append(true, appendLine("next")) }()
	select {
	case err := <-wrote:
		t.Fatalf("Append past the window returned (%v) before the loop took the queue", err)
	case <-time.After(50 * time.Millisecond):
	}
	// A session on the loop never waits.
	if err := o.Append(false, appendLine("loop")); err != nil {
		t.Fatal(err)
	}
	var f Flow
	(<-c.posted)(&f)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if string(f.Out) != "0123456789\nloop\n" {
		t.Fatalf("first flush: %q", f.Out)
	}
	f.Out = f.Out[:0]
	(<-c.posted)(&f)
	if string(f.Out) != "next\n" {
		t.Fatalf("second flush: %q", f.Out)
	}
}

func TestOutboxAbandonWakesWriters(t *testing.T) {
	c := &stallConn{posted: make(chan func(*Flow), 16)}
	o := NewOutbox(c, 4, func(*Flow) { t.Error("end hook ran for an abandoned stream") })
	o.Append(true, appendLine("full"))
	wrote := make(chan error)
	go func() { wrote <- o.Append(true, appendLine("blocked")) }()
	time.Sleep(20 * time.Millisecond)
	o.Abandon() // the connection closed: the posted flush is dropped unrun
	if err := <-wrote; !errors.Is(err, handlers.ErrStreamClosed) {
		t.Fatalf("waiting writer got %v", err)
	}
	if err := o.End(true, nil); err != handlers.ErrStreamClosed {
		t.Fatalf("End after Abandon: %v", err)
	}
	<-o.Done()
	// A flush that runs anyway adds nothing.
	var f Flow
	(<-c.posted)(&f)
	if len(f.Out) != 0 {
		t.Fatalf("abandoned flush wrote %q", f.Out)
	}
}

func TestOutboxOnAClosedConnection(t *testing.T) {
	c := newLoopConn()
	c.close()
	o := NewOutbox(c, 0, nil)
	// The flush cannot be posted: the message is lost with the
	// connection, and the stream is over at once.
	if err := o.Append(true, appendLine("x")); err != handlers.ErrStreamClosed {
		t.Fatalf("Append on a closed connection: %v", err)
	}
	if !o.Closed() {
		t.Fatal("not closed after a refused post")
	}
	if err := o.Append(true, appendLine("y")); err != handlers.ErrStreamClosed {
		t.Fatalf("second Append: %v", err)
	}
}
