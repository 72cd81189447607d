package cocaine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

// exchange is a conversation that touches every path that answers: a
// stream, a unary call, a heartbeat, an unknown event, a revoked id.
var exchange = join(
	invoke(2, "echo"),
	chunk(2, "one"),
	invoke(3, "ping"),
	chunk(2, strings.Repeat("x", 300)),
	choke(3),
	V12.AppendHeartbeat(nil),
	invoke(5, "nope"),
	invoke(4, "echo"), // below 5: revoked
	chunk(4, "dropped"),
	invoke(6, "first"),
	chunk(6, "\x92\xa3abc\x01"),
	choke(2),
	choke(6),
)

var exchangeOut = lines(
	`[2 0 ["one"] []]`,
	`[2 0 ["`+strings.Repeat("x", 300)+`"] []]`,
	`[3 0 ["\xa4pong"] []]`,
	`[3 2 [] []]`,
	`[1 0 [] []]`,
	`[5 1 [[42 1] "unknown event \"nope\""] []]`,
	`[2 2 [] []]`,
	`[6 0 ["\xa3abc"] []]`,
	`[6 2 [] []]`,
)

func TestExchange(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(exchange)
	if got := d.take(V12); got != exchangeOut {
		t.Errorf("got %q, want %q", got, exchangeOut)
	}
	if d.closed || d.phase != codec.PhaseIdle || d.busy {
		t.Errorf("closed %v, phase %v, busy %v: want open, idle, not busy", d.closed, d.phase, d.busy)
	}
	if d.requests != 13 {
		t.Errorf("requests: got %d, want 13", d.requests)
	}
}

// TestSplit feeds the exchange whole, byte by byte and in two parts split
// at every offset: the answers are the same.
func TestSplit(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	whole := newDriver(t, c)
	whole.feed(exchange)
	want := string(whole.out)

	bytewise := newDriver(t, c)
	for i := range exchange {
		bytewise.feed(exchange[i : i+1])
	}
	if got := string(bytewise.out); got != want {
		t.Errorf("byte by byte: got %q, want %q", got, want)
	}
	for i := 0; i <= len(exchange); i++ {
		d := newDriver(t, c)
		d.feed(exchange[:i])
		d.feed(exchange[i:])
		if got := string(d.out); got != want {
			t.Fatalf("split at %d: got %q, want %q", i, got, want)
		}
	}
}

// TestSplitLimit: with backpressure (Limit 1: one frame per call) the
// answers are the same too.
func TestSplitLimit(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	d.limit = 1
	d.feed(exchange)
	if got := d.take(V12); got != exchangeOut {
		t.Errorf("got %q, want %q", got, exchangeOut)
	}
}

// TestInterleaved: 100 channels open at once on one connection, their
// chunks interleaved, closed in reverse order, with unary calls between.
func TestInterleaved(t *testing.T) {
	var in []byte
	var want []string
	const n = 100
	for i := range n {
		in = append(in, invoke(uint64(2+i), "echo")...)
	}
	for round := range 3 {
		for i := range n {
			id := uint64(2 + i)
			data := fmt.Sprintf("c%d.%d", id, round)
			in = append(in, chunk(id, data)...)
			want = append(want, fmt.Sprintf(`[%d 0 [%q] []]`, id, data))
		}
	}
	for i := n - 1; i >= 0; i-- {
		id := uint64(2 + i)
		in = append(in, choke(id)...)
		want = append(want, fmt.Sprintf(`[%d 2 [] []]`, id))
		if i%10 == 0 {
			call := uint64(1000 + n - i) // above every id before it
			in = append(in, join(invoke(call, "ping"), choke(call))...)
			want = append(want, fmt.Sprintf(`[%d 0 ["\xa4pong"] []]`, call), fmt.Sprintf(`[%d 2 [] []]`, call))
		}
	}
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	d.feed(in)
	if got := d.take(V12); got != lines(want...) {
		t.Errorf("got %q, want %q", got, lines(want...))
	}
	s := d.s.(*session)
	if s.chans != nil || s.held != 0 || s.fr.Partial() {
		t.Errorf("after the exchange: %d channels, %d bytes held, own walker %v: want none", len(s.chans), s.held, s.fr.Partial())
	}
	// Byte by byte too.
	d = newDriver(t, c)
	for i := range in {
		d.feed(in[i : i+1])
	}
	if got := d.take(V12); got != lines(want...) {
		t.Errorf("byte by byte: got %q, want %q", got, lines(want...))
	}
}

func TestRevoked(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	// A reconnecting client may start above 2.
	d.feed(join(invoke(7, "echo"), chunk(7, "a")))
	d.feed(join(invoke(3, "echo"), chunk(3, "revoked"), choke(3)))
	d.feed(join(choke(7), chunk(7, "after choke"), invoke(7, "echo")))
	d.feed(join(invoke(8, "echo"), chunk(8, "b"), choke(8)))
	want := lines(`[7 0 ["a"] []]`, `[7 2 [] []]`, `[8 0 ["b"] []]`, `[8 2 [] []]`)
	if got := d.take(V12); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if d.closed {
		t.Error("closed: revoked ids are dropped, not fatal")
	}
}

func TestChannelOne(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		// cocaine-framework-python and -nodejs start at channel 1.
		{"python client", join(invoke(1, "echo"), chunk(1, "py"), choke(1), invoke(2, "ping"), choke(2)),
			lines(`[1 0 ["py"] []]`, `[1 2 [] []]`, `[2 0 ["\xa4pong"] []]`, `[2 2 [] []]`)},
		{"error on channel 1", join(invoke(1, "count"), chunk(1, "a"), peerError(1, 3, 4, "bad")),
			lines(`[1 0 ["after 1: error 3 4 bad"] []]`, `[1 2 [] []]`)},
		{"heartbeat while open", join(invoke(1, "echo"), V12.AppendHeartbeat(nil), chunk(1, "x"), choke(1)),
			lines(`[1 0 [] []]`, `[1 0 ["x"] []]`, `[1 2 [] []]`)},
		{"handshake then 2", join(unhex(t, hexHandshake), invoke(2, "echo"), chunk(2, "w"), choke(2)),
			lines(`[2 0 ["w"] []]`, `[2 2 [] []]`)},
		// An event named like a UUID is a handshake only while channel 1 is not open.
		{"uuid event", join(invoke(1, "echo"), chunk(1, "550e8400-e29b-41d4-a716-446655440000"), choke(1)),
			lines(`[1 0 ["550e8400-e29b-41d4-a716-446655440000"] []]`, `[1 2 [] []]`)},
		{"control after 1 ended", join(invoke(1, "ping"), choke(1), V12.AppendHeartbeat(nil), chunk(1, "late")),
			lines(`[1 0 ["\xa4pong"] []]`, `[1 2 [] []]`, `[1 0 [] []]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
			d.feed(tc.in)
			if got := d.take(V12); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTerminate(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(join(invoke(2, "count"), chunk(2, "a"), V12.AppendTerminate(nil, 2, "going away"), invoke(3, "echo")))
	want := lines(`[1 1 [2 "going away"] []]`)
	if got := d.take(V12); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !d.closed {
		t.Fatal("not closed after terminate")
	}
	// The reactor closes the session: the open stream hears of it.
	lastError = ""
	d.s.Close()
	if want := "42 220 the connection closed closed=true"; lastError != want {
		t.Errorf("receiver got %q, want %q", lastError, want)
	}
}

func TestStreams(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"done at once", join(invoke(2, "early"), chunk(2, "dropped"), choke(2)),
			lines(`[2 0 ["hello"] []]`, `[2 2 [] []]`)},
		{"count", join(invoke(2, "count"), chunk(2, "a"), chunk(2, "b"), choke(2)),
			lines(`[2 0 ["count 2"] []]`, `[2 2 [] []]`)},
		{"peer error", join(invoke(2, "count"), chunk(2, "a"), peerError(2, 9, 8, "gone")),
			lines(`[2 0 ["after 1: error 9 8 gone"] []]`, `[2 2 [] []]`)},
		{"peer error without message", join(invoke(2, "count"), unhex(t, "94 02 01 91 92 01 02 90")),
			lines(`[2 0 ["after 0: error 1 2 "] []]`, `[2 2 [] []]`)},
		// The handler ended its direction in OpenStream: it still gets the
		// peer's chunks, and nothing more is sent for it.
		{"handler error first", join(invoke(2, "refuse"), chunk(2, "a"), chunk(2, "b"), choke(2)),
			lines(`[2 1 [[7 9] "no, refuse"] []]`)},
		{"open panic", join(invoke(2, "openpanic"), chunk(2, "x"), invoke(3, "echo"), chunk(3, "alive"), choke(3)),
			lines(`[2 1 [[42 4] "internal error"] []]`, `[3 0 ["alive"] []]`, `[3 2 [] []]`)},
		{"chunk panic", join(invoke(2, "chunkpanic"), chunk(2, "x"), chunk(2, "y"), choke(2)),
			lines(`[2 0 ["before"] []]`, `[2 1 [[42 4] "internal error"] []]`)},
		{"tag", unhex(t, "94 02 00 92 a4 65 63 68 6f a3 74 61 67 90 94 02 00 91 a1 7a 90 94 02 02 90 90"),
			lines(`[2 0 ["z"] []]`, `[2 2 [] []]`)},
		{"nil tag", unhex(t, "94 02 00 92 a4 65 63 68 6f c0 90 94 02 02 90 90"),
			lines(`[2 2 [] []]`)},
		{"bin data", unhex(t, hexInvokeEcho+"94 02 00 91 c4 02 68 69 90"+hexChoke2),
			lines(`[2 0 ["hi"] []]`, `[2 2 [] []]`)},
		// Messages out of place: a type outside the graph, a channel
		// opened by a choke.
		{"type 3", join(invoke(2, "count"), unhex(t, "94 02 03 90 90"), chunk(2, "dropped")),
			lines(`[2 0 ["after 0: error 42 5 message type out of place on this channel: 3"] []]`,
				`[2 1 [[42 5] "message type out of place on this channel: 3"] []]`)},
		{"choke first", join(choke(2), invoke(2, "echo"), invoke(3, "echo"), choke(3)),
			lines(`[2 1 [[42 5] "message type out of place on this channel: 2"] []]`, `[3 2 [] []]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
			d.feed(tc.in)
			if got := d.take(V12); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if d.closed {
				t.Error("connection closed")
			}
		})
	}
}

func TestPanicsCounted(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(join(invoke(2, "chunkpanic"), chunk(2, "x"), invoke(3, "boom"), choke(3), invoke(4, "openpanic")))
	if d.panics != 3 {
		t.Errorf("panics: got %d, want 3", d.panics)
	}
}

// TestKept: a kept direction carries the Sender's messages and its own, in
// order, keeps the channel open and the connection busy after the peer's
// direction ended, and learns of the connection's close.
func TestKept(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(join(invoke(2, "keeper"), chunk(2, "a"), choke(2)))
	d.runPosts()
	if got, want := d.take(V12), lines(`[2 0 ["a"] []]`, `[2 0 ["bye"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("closed by the Sender: got %q, want %q", got, want)
	}
	if s := d.s.(*session); s.kept != 0 || s.live != 0 || d.busy {
		t.Errorf("after the end: kept %d live %d busy %v", s.kept, s.live, d.busy)
	}

	// The peer's error leaves the kept direction open: the writer goes on.
	d.draining = true
	d.feed(join(invoke(3, "keeper"), chunk(3, "b"), peerError(3, 1, 2, "e")))
	w := keptWriter
	if err := w.Write([]byte("later")); err != nil {
		t.Fatal(err)
	}
	d.runPosts()
	if got, want := d.take(V12), lines(`[3 0 ["b"] []]`, `[3 0 ["later"] []]`); got != want {
		t.Errorf("after the peer's error: got %q, want %q", got, want)
	}
	if !d.busy || d.phase != codec.PhaseIdle || d.closed {
		t.Errorf("kept stream open: busy %v phase %v closed %v: want busy, idle, open (a drain waits)", d.busy, d.phase, d.closed)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d.runPosts()
	// The Post leaves the close to the reactor (frames may be buffered
	// unserved): idle and not busy, the drain sweep closes it; the next
	// Serve would too.
	if got, want := d.take(V12), lines(`[3 2 [] []]`); got != want || d.busy || d.phase != codec.PhaseIdle || d.closed {
		t.Errorf("kept close while draining: got %q busy %v phase %v closed %v, want %q, idle, open", got, d.busy, d.phase, d.closed, want)
	}
	d.feed(V12.AppendHeartbeat(nil))
	if !d.closed {
		t.Error("not closed by the Serve after the kept stream ended while draining")
	}
	if w.Write([]byte("x")) != handlers.ErrStreamClosed {
		t.Error("Write after Close did not fail")
	}

	// The connection's close ends a kept direction: its writer learns.
	d = newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(invoke(2, "keeper"))
	w = keptWriter
	d.s.Close()
	select {
	case <-w.Done():
	default:
		t.Error("Done not closed by the connection's close")
	}
	if w.Write([]byte("x")) != handlers.ErrStreamClosed {
		t.Error("Write after the connection closed did not fail")
	}

	// A malformed frame cuts kept directions at once, before the close.
	d = newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(invoke(2, "keeper"))
	w = keptWriter
	d.feed(unhex(t, "94 00 00 90 90")) // channel 0
	if !d.closed || w.Write([]byte("x")) != handlers.ErrStreamClosed {
		t.Errorf("after a malformed frame: closed %v, the kept writer still open", d.closed)
	}
}

// TestKeptWriterOnTheLoop: the kept writer used during the stream's own
// handler calls never waits for the loop (which is the caller): 80 KiB
// written through it in one Serve call, past the 64 KiB window.
func TestKeptWriterOnTheLoop(t *testing.T) {
	reg := handlers.NewRegistry()
	reg.HandleStream("loud", handlers.StreamFunc(func(tx handlers.Sender, _ []byte) handlers.Receiver {
		return loud{tx.Keep()}
	}))
	reg.Freeze()
	d := newDriver(t, newCodec(t, reg, Options{}, nil, codec.Limits{}))
	in := invoke(2, "loud")
	for range 80 {
		in = append(in, chunk(2, strings.Repeat("k", 1024))...)
	}
	in = append(in, choke(2)...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.feed(in)
		d.runPosts()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the kept writer waited on the loop")
	}
	if got := strings.Count(d.take(V12), strings.Repeat("k", 1024)); got != 80 {
		t.Errorf("%d chunks echoed, want 80", got)
	}
}

// loud echoes each chunk through its kept writer, and closes it.
type loud struct{ w handlers.StreamWriter }

func (l loud) Chunk(_ handlers.Sender, data []byte)    { l.w.Write(data) }
func (l loud) Error(handlers.Sender, int, int, []byte) {}
func (l loud) Close(handlers.Sender)                   { l.w.Close() }

// TestRetainedSender: a Sender kept past its call does nothing.
func TestRetainedSender(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(invoke(2, "keep"))
	retained.Write([]byte("late"))
	retained.Close()
	if !retained.Closed() || retained.Conn() != nil {
		t.Errorf("retained Sender: Closed %v, Conn %v: want true, nil", retained.Closed(), retained.Conn())
	}
	d.feed(choke(2))
	want := lines(`[2 0 ["count 0"] []]`, `[2 2 [] []]`)
	if got := d.take(V12); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSenderConn: Conn is the connection during the call.
func TestSenderConn(t *testing.T) {
	reg := handlers.NewRegistry()
	var got handlers.Conn
	reg.HandleStream("*", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		got = tx.Conn()
		tx.Write(event)
		return nil
	}))
	reg.Freeze()
	d := newDriver(t, newCodec(t, reg, Options{}, nil, codec.Limits{}))
	d.feed(invoke(2, "anything"))
	if got != d.conn {
		t.Errorf("Conn: got %v, want the connection", got)
	}
	// The fallback serves every event.
	if got, want := d.take(V12), lines(`[2 0 ["anything"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestLookupOrder: a stream handler before a unary method of the same
// name, the method before the fallback.
func TestLookupOrder(t *testing.T) {
	reg := handlers.NewRegistry()
	reg.HandleStream("both", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		tx.Write([]byte("stream"))
		return nil
	}))
	reg.HandleRPCFunc("both", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{0xa1, 'm'}) })
	reg.HandleRPCFunc("method", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{0xa1, 'm'}) })
	reg.HandleStream("*", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		tx.Write([]byte("fallback"))
		return nil
	}))
	reg.Freeze()
	d := newDriver(t, newCodec(t, reg, Options{}, nil, codec.Limits{}))
	d.feed(join(invoke(2, "both"), invoke(3, "method"), choke(3), invoke(4, "other")))
	want := lines(`[2 0 ["stream"] []]`, `[2 2 [] []]`, `[3 0 ["\xa1m"] []]`, `[3 2 [] []]`,
		`[4 0 ["fallback"] []]`, `[4 2 [] []]`)
	if got := d.take(V12); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUnary(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"ping", join(invoke(2, "ping"), chunk(2, "\x90"), choke(2)),
			lines(`[2 0 ["\xa4pong"] []]`, `[2 2 [] []]`)},
		{"no chunk", join(invoke(2, "first"), choke(2)),
			lines(`[2 0 ["\xc0"] []]`, `[2 2 [] []]`)},
		{"first", join(invoke(2, "first"), chunk(2, "\x92\x2a\xc3"), choke(2)),
			lines(`[2 0 ["*"] []]`, `[2 2 [] []]`)},
		{"no result", join(invoke(2, "noresult"), choke(2)),
			lines(`[2 0 ["\xc0"] []]`, `[2 2 [] []]`)},
		{"method error", join(invoke(2, "fails"), choke(2)),
			lines(`[2 1 [[42 77] "it failed"] []]`)},
		{"panic", join(invoke(2, "boom"), choke(2), invoke(3, "ping"), choke(3)),
			lines(`[2 1 [[42 4] "internal error"] []]`, `[3 0 ["\xa4pong"] []]`, `[3 2 [] []]`)},
		{"two chunks", join(invoke(2, "first"), chunk(2, "\x90"), chunk(2, "\x90"), choke(2)),
			lines(`[2 1 [[42 2] "a method takes one chunk of params"] []]`)},
		{"not an array", join(invoke(2, "first"), chunk(2, "\xa1x"), choke(2)),
			lines(`[2 1 [[42 2] "the params are not one msgpack array"] []]`)},
		{"trailing bytes", join(invoke(2, "first"), chunk(2, "\x90\x90"), choke(2)),
			lines(`[2 1 [[42 2] "the params are not one msgpack array"] []]`)},
		{"bomb params", join(invoke(2, "first"), chunk(2, "\xdd\xff\xff\xff\xff"), choke(2)),
			lines(`[2 1 [[42 2] "the params are not one msgpack array"] []]`)},
		{"empty params", join(invoke(2, "first"), chunk(2, ""), choke(2)),
			lines(`[2 1 [[42 2] "the params are not one msgpack array"] []]`)},
		{"peer error", join(invoke(2, "ping"), peerError(2, 1, 1, "cancel"), choke(2)),
			lines(`[2 2 [] []]`)},
		{"out of place", join(invoke(2, "ping"), unhex(t, "94 02 05 90 90"), choke(2)),
			lines(`[2 1 [[42 5] "message type out of place on this channel: 5"] []]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
			d.feed(tc.in)
			if got := d.take(V12); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if s := d.s.(*session); s.chans != nil || s.held != 0 {
				t.Errorf("%d channels open, %d bytes held after the call", len(s.chans), s.held)
			}
		})
	}
}

func TestBlocking(t *testing.T) {
	pool := &fakePool{cap: 1}
	d := newDriver(t, newCodec(t, nil, Options{}, pool, codec.Limits{}))
	d.feed(join(invoke(2, "slow"), chunk(2, "\x91\xa3abc"), choke(2), chunk(2, "late, dropped")))
	if got := d.take(V12); got != "" {
		t.Fatalf("answered before the pool ran: %q", got)
	}
	if !d.busy || d.phase != codec.PhaseIdle {
		t.Errorf("busy %v, phase %v: want busy and idle", d.busy, d.phase)
	}
	// The pool is full: the next blocking call is answered busy at once,
	// while the loop serves the rest.
	d.feed(join(invoke(3, "slow"), choke(3), invoke(4, "ping"), choke(4)))
	want := lines(`[3 1 [[42 3] "busy: the offload pool is full"] []]`, `[4 0 ["\xa4pong"] []]`, `[4 2 [] []]`)
	if got := d.take(V12); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	pool.run()
	d.runPosts()
	if got, want := d.take(V12), lines(`[2 0 ["\xa3abc"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if d.busy {
		t.Error("still busy after the answer")
	}
	if s := d.s.(*session); s.chans != nil || s.pending != 0 || s.held != 0 {
		t.Errorf("%d channels, %d pending, %d held after the answer", len(s.chans), s.pending, s.held)
	}
}

// TestNoPool: without a pool a blocking method is answered busy.
func TestNoPool(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(join(invoke(2, "slow"), choke(2)))
	if got, want := d.take(V12), lines(`[2 1 [[42 3] "busy: the offload pool is full"] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestBrokenWaitsForPending: a malformed frame after an offloaded call
// closes the connection once the call is answered.
func TestBrokenWaitsForPending(t *testing.T) {
	pool := &fakePool{cap: 1}
	d := newDriver(t, newCodec(t, nil, Options{}, pool, codec.Limits{}))
	d.feed(join(invoke(2, "slow"), choke(2), []byte{0xc1}, invoke(3, "ping"), choke(3)))
	if d.closed || d.take(V12) != "" {
		t.Fatal("closed or answered before the pending call")
	}
	pool.run()
	d.runPosts()
	if got, want := d.take(V12), lines(`[2 0 ["\xc0"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !d.closed {
		t.Error("not closed after the pending call was answered")
	}
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"bomb frame", "dd ff ff ff ff"},
		{"bomb in frame", "94 02 00 dd ff ff ff ff"},
		{"bomb args", "94 02 00 91 dd ff ff ff ff"},
		{"map32 bomb", "94 02 00 91 df ff ff ff ff"},
		{"str32 bomb", "94 02 00 91 db ff ff ff ff"},
		{"reserved", "c1"},
		{"not an array", "2a"},
		{"map", "81 00 00"},
		{"two elements", "92 02 00"},
		{"negative channel", "94 ff 00 91 a1 61 90"},
		{"string channel", "94 a1 32 00 91 a1 61 90"},
		{"args not array", "94 02 00 a4 65 63 68 6f 90"},
		{"headers not array", "94 02 00 91 a4 65 63 68 6f c0"},
		{"channel 0", "94 00 00 91 a4 65 63 68 6f 90"},
		{"invoke no event", "94 02 00 90 90"},
		{"invoke int event", "94 02 00 91 2a 90"},
		{"invoke three args", "94 02 00 93 a1 61 a1 62 a1 63 90"},
		{"chunk int", hexInvokeEcho + "94 02 00 91 2a 90"},
		{"chunk two", hexInvokeEcho + "94 02 00 92 a1 61 a1 62 90"},
		{"error flat", hexInvokeEcho + "94 02 01 92 01 a1 78 90"},
		{"error code str", hexInvokeEcho + "94 02 01 92 92 2a a1 31 a1 78 90"},
		{"error msg int", hexInvokeEcho + "94 02 01 92 92 2a 01 05 90"},
		{"deep", "94 02 00 91 " + strings.Repeat("91 ", 40) + "90 90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
			in := unhex(t, tc.in)
			d.feed(in)
			d.feed(join(invoke(9, "echo"), chunk(9, "never"))) // nothing after is served
			if !d.closed {
				t.Fatalf("not closed; output %q", d.take(V12))
			}
			if got := d.take(V12); strings.Contains(got, "never") {
				t.Errorf("served after the malformed frame: %q", got)
			}
			if d.errors == 0 {
				t.Error("not counted as an error")
			}
		})
	}
}

// TestFrameLimit: a frame over MaxFrame is refused as soon as its header
// says so, before its bytes arrive.
func TestFrameLimit(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{MaxFrame: 64}))
	d.feed(join(invoke(2, "echo"), chunk(2, strings.Repeat("a", 40))))
	if got, want := d.take(V12), lines(`[2 0 ["`+strings.Repeat("a", 40)+`"] []]`); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	d.feed(chunk(2, strings.Repeat("a", 100))[:10])
	if !d.closed {
		t.Error("a frame over MaxFrame is not refused from its header")
	}
}

func TestBounds(t *testing.T) {
	t.Run("channels", func(t *testing.T) {
		d := newDriver(t, newCodec(t, nil, Options{MaxChannels: 2}, nil, codec.Limits{}))
		d.feed(join(invoke(2, "echo"), invoke(3, "first"), invoke(4, "echo"), chunk(4, "dropped"),
			choke(2), invoke(5, "echo"), chunk(5, "room again"), choke(5), choke(3)))
		want := lines(
			`[4 1 [[42 3] "too many open channels on this connection (limit 2)"] []]`,
			`[2 2 [] []]`, `[5 0 ["room again"] []]`, `[5 2 [] []]`,
			`[3 0 ["\xc0"] []]`, `[3 2 [] []]`)
		if got := d.take(V12); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if d.closed || d.errors != 1 {
			t.Errorf("closed %v, errors %d: want open, 1", d.closed, d.errors)
		}
	})
	t.Run("buffered", func(t *testing.T) {
		d := newDriver(t, newCodec(t, nil, Options{MaxBuffered: 64}, nil, codec.Limits{}))
		big := "\x91\xda\x00\x28" + strings.Repeat("b", 40) // 44 bytes of params
		d.feed(join(invoke(2, "first"), chunk(2, big), invoke(3, "first"), chunk(3, big), choke(3), choke(2),
			invoke(4, "first"), chunk(4, big), choke(4)))
		want := lines(
			`[3 1 [[42 3] "too many bytes buffered on this connection (limit 64)"] []]`,
			`[2 0 ["\xda\x00(`+strings.Repeat("b", 40)+`"] []]`, `[2 2 [] []]`,
			`[4 0 ["\xda\x00(`+strings.Repeat("b", 40)+`"] []]`, `[4 2 [] []]`)
		if got := d.take(V12); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if d.closed {
			t.Error("closed: a buffer bound is per channel")
		}
	})
}

func TestPhases(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	in := invoke(2, "echo")
	d.feed(in[:3])
	if d.phase != codec.PhaseHead || d.need != 0 {
		t.Errorf("partial frame: phase %v need %d: want head, 0 (near)", d.phase, d.need)
	}
	d.feed(in[3:])
	if d.phase != codec.PhaseBody {
		t.Errorf("open channel: phase %v, want body", d.phase)
	}
	big := chunk(2, strings.Repeat("b", 5000))
	d.feed(big[:100])
	if d.phase != codec.PhaseBody || d.need != len(big) {
		t.Errorf("partial chunk on an open channel: phase %v need %d: want body, %d", d.phase, d.need, len(big))
	}
	d.feed(big[100:])
	d.feed(choke(2))
	if d.phase != codec.PhaseIdle || d.need != 0 {
		t.Errorf("done: phase %v need %d, want idle, 0", d.phase, d.need)
	}
	// A header that declares too much is refused as soon as it is whole,
	// even when the Walker's Need lies beyond it.
	d = newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	bomb := unhex(t, "94 02 00 dd ff ff ff ff")
	d.feed(bomb[:4])
	d.feed(bomb[4:])
	if !d.closed {
		t.Error("bomb split after its first byte: not refused")
	}
	if s := d.s.(*session); s.chans != nil || s.fr.Partial() {
		t.Error("an idle session holds a channel table or a Walker")
	}
}

func TestDraining(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	d.draining = true
	d.feed(join(invoke(2, "echo"), chunk(2, "a")))
	if d.closed {
		t.Fatal("closed with a channel open")
	}
	d.feed(choke(2))
	if got, want := d.take(V12), lines(`[2 0 ["a"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !d.closed {
		t.Error("not closed once no channel was open")
	}
	// Everything buffered is answered before the close.
	d = newDriver(t, c)
	d.draining = true
	d.feed(join(invoke(2, "ping"), choke(2), invoke(3, "ping"), choke(3)))
	if got := d.take(V12); strings.Count(got, "pong") != 2 || !d.closed {
		t.Errorf("got %q, closed %v: want both answered, then closed", got, d.closed)
	}
}

// TestSharedWalker: sessions of one loop with partial frames at once
// each keep their own place.
func TestSharedWalker(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	a, b := newDriver(t, c), newDriver(t, c)
	ina := join(invoke(2, "echo"), chunk(2, strings.Repeat("a", 100)), choke(2))
	inb := join(invoke(2, "echo"), chunk(2, "b"+strings.Repeat("\x92", 50)), choke(2))
	for i := 0; i < max(len(ina), len(inb)); i += 7 {
		a.feed(ina[min(i, len(ina)):min(i+7, len(ina))])
		b.feed(inb[min(i, len(inb)):min(i+7, len(inb))])
	}
	if got, want := a.take(V12), lines(`[2 0 ["`+strings.Repeat("a", 100)+`"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("a: got %q, want %q", got, want)
	}
	if got, want := b.take(V12), lines(fmt.Sprintf(`[2 0 [%q] []]`, "b"+strings.Repeat("\x92", 50)), `[2 2 [] []]`); got != want {
		t.Errorf("b: got %q, want %q", got, want)
	}
}

func TestRefuseReleases(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	d.feed(invoke(2, "echo")[:4])
	d.refuse(codec.RefuseTimeout)
	if d.errors != 1 || d.s.(*session).fr.Partial() || !d.closed {
		t.Errorf("errors %d, own walker %v, closed %v: want 1, none, closed", d.errors, d.s.(*session).fr.Partial(), d.closed)
	}
	if c.loops.Get(0).walkers.Spares() != 1 {
		t.Errorf("spare walkers: got %d, want 1", c.loops.Get(0).walkers.Spares())
	}
}

// The params a unary call holds are reported as held until the call runs;
// a channel that waits for the peer is in PhaseBody even while a frame is
// partly received.
func TestHeldParams(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	params := "\x91\xa5hello"
	d.feed(join(invoke(2, "first"), chunk(2, params)))
	if want := len("first") + len(params); d.held != want || d.phase != codec.PhaseBody {
		t.Fatalf("held %d phase %v, want %d and body", d.held, d.phase, want)
	}
	d.feed(choke(2)[:2])
	if d.phase != codec.PhaseBody {
		t.Fatalf("phase %v with a partial frame on an owed channel, want body", d.phase)
	}
	d.feed(choke(2)[2:])
	if got, want := d.take(V12), lines(`[2 0 ["\xa5hello"] []]`, `[2 2 [] []]`); got != want || d.held != 0 || d.phase != codec.PhaseIdle {
		t.Fatalf("got %q held %d phase %v, want %q, 0, idle", got, d.held, d.phase, want)
	}
}

// Heartbeats are control: reported as such, so that they do not count as
// progress of the calls the connection owes.
func TestHeartbeatIsControl(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	hb := V12.AppendHeartbeat(nil)
	d.feed(join(invoke(2, "first"), hb, hb))
	if d.control != 2*len(hb) {
		t.Errorf("control %d after two heartbeats, want %d", d.control, 2*len(hb))
	}
	d.feed(chunk(2, "\x90"))
	if d.control != 0 {
		t.Errorf("control %d after a chunk, want 0", d.control)
	}
}

// A refused connection tells every channel that waits for the peer why:
// after a timeout every one, after an overload those not running on the
// offload pool, whose answers still go out before the connection closes.
// The params held are released.
func TestRefuseAnswersOwedChannels(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	d := newDriver(t, c)
	d.feed(join(invoke(2, "first"), chunk(2, "\x91\x01"), invoke(3, "count")))
	d.refuse(codec.RefuseTimeout)
	want := lines(`[2 1 [[42 6] "`+msgTimeout+`"] []]`, `[3 1 [[42 6] "`+msgTimeout+`"] []]`)
	if got := d.take(V12); got != want || d.held != 0 || !d.closed || d.errors != 1 {
		t.Fatalf("timeout: got %q held %d closed %v errors %d, want %q, 0, closed, 1", got, d.held, d.closed, d.errors, want)
	}

	pool := &fakePool{cap: 8}
	c = newCodec(t, nil, Options{}, pool, codec.Limits{})
	d = newDriver(t, c)
	d.feed(join(invoke(2, "slow"), chunk(2, "\x91\x01"), choke(2), invoke(3, "first"), chunk(3, "\x91\x02")))
	d.refuse(codec.RefuseOverload)
	want = lines(`[3 1 [[42 3] "` + msgOverload + `"] []]`)
	if got := d.take(V12); got != want || d.held != 0 || d.closed || !d.busy {
		t.Fatalf("overload: got %q held %d closed %v busy %v, want %q, 0, open and busy", got, d.held, d.closed, d.busy, want)
	}
	d.feed(join(choke(3), invoke(4, "first"))) // refused: nothing more is read
	pool.run()
	d.runPosts()
	if got, want := d.take(V12), lines(`[2 0 ["\x01"] []]`, `[2 2 [] []]`); got != want || !d.closed {
		t.Fatalf("overload: got %q closed %v, want %q and closed", got, d.closed, want)
	}
}

func TestV11(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		want   string
		closed bool
	}{
		{"echo", hexV11Invoke + hexV11Chunk + hexV11Chunk + hexV11Choke,
			lines(`[4 1 ["hi"]]`, `[4 1 ["hi"]]`, `[6 1 []]`), false},
		{"ping", "93 03 02 91 a4 70 69 6e 67 93 06 02 90", lines(`[4 2 ["\xa4pong"]]`, `[6 2 []]`), false},
		{"peer error", hexV11Invoke + "93 03 02 91 a5 63 6f 75 6e 74 93 05 02 92 03 a1 78",
			lines(`[4 2 ["after 0: error 0 3 x"]]`, `[6 2 []]`), false},
		{"method error", "93 03 02 91 a5 66 61 69 6c 73 93 06 02 90", lines(`[5 2 [77 "it failed"]]`), false},
		{"revoked", "93 03 05 91 a4 70 69 6e 67 93 03 04 91 a4 70 69 6e 67 93 06 04 90 93 06 05 90",
			lines(`[4 5 ["\xa4pong"]]`, `[6 5 []]`), false},
		{"invoke on open session", hexV11Invoke + hexV11Invoke,
			lines(`[5 1 [5 "message type out of place on this channel: 3"]]`), false},
		{"session 0", "93 03 00 91 a4 65 63 68 6f", "", true},
		{"type 7", "93 07 01 90", "", true},
		{"bad terminate", "93 02 00 91 01", "", true},
		{"bad error", hexV11Invoke + "93 05 01 91 01", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{Version: V11}, nil, codec.Limits{}))
			d.feed(unhex(t, tc.in))
			if got := d.take(V11); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if d.closed != tc.closed {
				t.Errorf("closed: got %v, want %v", d.closed, tc.closed)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"cocaine", "cocaine-v11", "cocaine-locator"} {
		f, err := codec.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f(codec.Env{Handlers: testRegistry(), Loops: 2})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c == nil {
			t.Fatalf("%s: nil codec", name)
		}
	}
	if c, _ := NewV11(codec.Env{Handlers: testRegistry()}); c.(*Codec).Version() != V11 {
		t.Error("cocaine-v11 does not speak v0.11")
	}
	if _, err := New(codec.Env{}); err == nil {
		t.Error("New without Handlers: no error")
	}
}

// TestSessionSize guards what an idle connection costs.
func TestSessionSize(t *testing.T) {
	if n := unsafe.Sizeof(session{}); n > 112 {
		t.Errorf("session is %d bytes, want at most 112", n)
	}
	if n := unsafe.Sizeof(locSession{}); n > 64 {
		t.Errorf("locator session is %d bytes, want at most 64", n)
	}
}

// TestLoopIndexOutOfRange: a loop index the codec was not told of gets
// private scratch space.
func TestLoopIndexOutOfRange(t *testing.T) {
	c := newCodec(t, nil, Options{}, nil, codec.Limits{})
	conn := &fakeConn{loop: 5}
	s := c.NewSession(conn)
	f := &codec.Flow{Limit: 1 << 20}
	s.Serve(join(invoke(2, "ping"), choke(2)), f)
	if !bytes.Contains(f.Out, []byte("pong")) {
		t.Errorf("got %q, want pong", f.Out)
	}
}

// TestRandomChannels opens and ends channels in random order against a
// model of which are open.
func TestRandomChannels(t *testing.T) {
	c := newCodec(t, nil, Options{MaxChannels: 64}, nil, codec.Limits{})
	d := newDriver(t, c)
	rnd := rand.New(rand.NewPCG(1, 2))
	open := map[uint64]int{} // id -> chunks sent
	next := uint64(2)
	var want []string
	for step := range 20000 {
		var ids []uint64
		for id := range open {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		switch r := rnd.IntN(10); {
		case r < 3 && len(open) < 64:
			d.feed(invoke(next, "count"))
			open[next] = 0
			next += uint64(1 + rnd.IntN(3))
		case r < 7 && len(ids) > 0:
			id := ids[rnd.IntN(len(ids))]
			d.feed(chunk(id, "c"))
			open[id]++
		case len(ids) > 0:
			id := ids[rnd.IntN(len(ids))]
			d.feed(choke(id))
			want = append(want, fmt.Sprintf(`[%d 0 ["count %d"] []]`, id, open[id]), fmt.Sprintf(`[%d 2 [] []]`, id))
			delete(open, id)
		}
		s := d.s.(*session)
		if s.live != len(open) || len(s.chans) > 2*s.live+8 {
			t.Fatalf("step %d: %d live in a table of %d, want %d live", step, s.live, len(s.chans), len(open))
		}
	}
	if got := d.take(V12); got != lines(want...) {
		t.Errorf("got %d lines, want %d", strings.Count(got, "\n"), len(want))
	}
}

// TestPendingBoundedPerConnection: one connection may have at most
// rpccall.MaxPending calls on the pool; the next is answered busy at once,
// however much room the pool has.
func TestPendingBoundedPerConnection(t *testing.T) {
	pool := &fakePool{cap: 1000}
	d := newDriver(t, newCodec(t, nil, Options{}, pool, codec.Limits{}))
	var in [][]byte
	for id := uint64(2); id < 2+rpccall.MaxPending+1; id++ {
		in = append(in, invoke(id, "slow"), choke(id))
	}
	d.feed(join(in...))
	last := 2 + rpccall.MaxPending
	if got, want := d.take(V12), lines(fmt.Sprintf(`[%d 1 [[42 3] "busy: the offload pool is full"] []]`, last)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if s := d.s.(*session); s.pending != rpccall.MaxPending {
		t.Errorf("%d pending, want %d", s.pending, rpccall.MaxPending)
	}
}
