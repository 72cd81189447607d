package msgpackrpc

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

var (
	ping1 = frame(`94 00 01 a4 "ping" 90`)
	pong1 = frame(`94 01 01 c0 a4 "pong"`)
	ping2 = frame(`94 00 02 a4 "ping" 90`)
	pong2 = frame(`94 01 02 c0 a4 "pong"`)
)

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// malformed lists frames that are no request or notification, or no
// msgpack frame at all: each closes the connection.
var malformed = []struct{ name, in string }{
	{"not an array", `01`},
	{"a str", `a4 "ping"`},
	{"a map", `81 00 01`},
	{"an empty array", `90`},
	{"a response", `94 01 01 c0 c0`},
	{"type 3", `94 03 01 a4 "ping" 90`},
	{"type -1", `94 ff 01 a4 "ping" 90`},
	{"type a str", `94 a1 "0" 01 a4 "ping" 90`},
	{"type nil", `93 c0 a4 "ping" 90`},
	{"request of 3 elements", `93 00 01 a4 "ping"`},
	{"request of 5 elements", `95 00 01 a4 "ping" 90 90`},
	{"notification of 4 elements", `94 02 a4 "ping" 90 90`},
	{"notification of 2 elements", `92 02 a4 "ping"`},
	{"one element", `91 00`},
	{"msgid negative", `94 00 ff a4 "ping" 90`},
	{"msgid over 2^32-1", `94 00 cf 00 00 00 01 00 00 00 00 a4 "ping" 90`},
	{"msgid a str", `94 00 a1 "1" a4 "ping" 90`},
	{"msgid nil", `94 00 c0 a4 "ping" 90`},
	{"msgid a float", `94 00 cb 3f f0 00 00 00 00 00 00 a4 "ping" 90`},
	{"reserved byte", `c1`},
	{"reserved byte inside", `94 00 01 a4 "ping" 91 c1`},
	{"array32 of 2^32-1", `dd ff ff ff ff`},
	{"array32 of 2^32-1 as params", `94 00 01 a4 "echo" dd ff ff ff ff`},
	{"map32 of 2^32-1 as params", `94 00 01 a4 "echo" df ff ff ff ff`},
	{"str32 of 2^32-1 as method", `94 00 01 db ff ff ff ff`},
	{"bin32 of 2^31-1 as a param", `94 00 01 a4 "echo" 91 c6 7f ff ff ff`},
	{"ext32 of 2^32-1 as a param", `94 00 01 a4 "echo" 91 c9 ff ff ff ff 05`},
	{"bin32 over the frame limit", `94 00 01 a4 "echo" 91 c6 00 10 00 00`},
	{"nesting of 33", `94 00 01 a4 "echo" ` + strings.Repeat("91 ", 31) + `90`},
	{"timestamp of 3 bytes", `94 00 01 a4 "echo" 91 c7 03 ff 00 00 00`},
}

// TestMalformed: a malformed frame closes the connection after the frames
// before it were answered; nothing after it is served, however the input
// is split.
func TestMalformed(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			in := cat(ping1, frame(tt.in), ping2)
			for _, pieces := range splits(in) {
				d := newDriver(t, c)
				got := d.run(pieces...)
				if !bytes.Equal(got, pong1) {
					t.Fatalf("in %d pieces: got %q, want %q", len(pieces), hexOf(got), hexOf(pong1))
				}
				if !d.closed || d.errors != 1 {
					t.Fatalf("in %d pieces: got closed=%v errors=%d, want closed after 1 error", len(pieces), d.closed, d.errors)
				}
			}
		})
	}
}

// TestMalformedFrameErrors: parseMessage tells what is wrong, and where.
func TestMalformedFrameErrors(t *testing.T) {
	tests := []struct {
		in, msg string
		off     int
	}{
		{`01`, msgNotArray, 0},
		{`94 01 01 c0 c0`, msgResponse, 1},
		{`94 03 01 a4 "ping" 90`, msgType, 1},
		{`93 00 01 a4 "ping"`, msgLength, 0},
		{`94 00 ff a4 "ping" 90`, msgMsgID, 2},
		{`94 00 cd 01 00 a4 "ping" c0`, "", 0}, // params are the caller's business
		{`93 02 2a 90`, "", 0},                 // and so is the method's type
	}
	for _, tt := range tests {
		var m message
		err := parseMessage(frame(tt.in), &m)
		var se *codec.SyntaxError
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tt.in, err)
		case tt.msg != "" && (!errors.As(err, &se) || se.Msg != tt.msg || se.Offset != tt.off):
			t.Errorf("%s: got %v, want %q at %d", tt.in, err, tt.msg, tt.off)
		}
	}
}

// TestBombs: frames that would make a careless decoder allocate without
// bound are refused from their header alone — the connection closes once
// the header is in, however much is promised — with little allocation.
func TestBombs(t *testing.T) {
	bombs := []struct {
		name   string
		in     []byte
		header int // bytes after which the frame must be refused
	}{
		{"dd ff ff ff ff", frame(`dd ff ff ff ff`), 5},
		{"echo with dd ff ff ff ff", frame(`94 00 01 a4 "echo" dd ff ff ff ff`), 13},
		{"params array32 inside", frame(`94 00 01 a4 "echo" 91 dd ff ff ff ff`), 14},
		{"map32 of 2^31-1", frame(`94 00 01 a4 "echo" df 7f ff ff ff`), 13},
		{"str32 of 2^32-1", frame(`94 00 01 a4 "echo" 91 db ff ff ff ff`), 14},
		{"bin32 of 1 MiB", frame(`94 00 01 a4 "echo" 91 c6 00 10 00 00`), 14},
		{"5 MB of nesting", cat(frame(`94 00 01 a4 "echo"`), bytes.Repeat([]byte{0x91}, 5<<20)), 8 + 31 + 1},
		{"5 MB of map nesting", cat(frame(`94 00 01 a4 "echo"`), bytes.Repeat([]byte{0x81, 0xc0}, 5<<20/2)), 8 + 2*31 + 1},
	}
	c := testCodec(t, codec.Limits{}, nil)
	for _, bb := range bombs {
		t.Run(bb.name, func(t *testing.T) {
			// Fed a byte at a time, closed as soon as the header is in.
			d := newDriver(t, c)
			fed := 0
			for fed < len(bb.in) && !d.closed {
				d.feed(bb.in[fed : fed+1])
				fed++
			}
			if !d.closed || fed != bb.header {
				t.Fatalf("got closed=%v after %d bytes, want closed after %d", d.closed, fed, bb.header)
			}
			// Fed whole, the allocation stays small.
			d = newDriver(t, c)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			d.s.Serve(bb.in, d.flow())
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
				t.Errorf("got %d bytes allocated, want < 64 KiB", got)
			}
		})
	}
}

// TestMaxFrame: a frame of exactly MaxFrame bytes is served; one byte more
// is refused from its header.
func TestMaxFrame(t *testing.T) {
	const max = 64
	c := testCodec(t, codec.Limits{MaxFrame: max}, nil)
	head := frame(`94 00 01 a4 "echo" 91 c4`) // then the bin's length and data
	fit := max - len(head) - 1
	in := cat(head, []byte{byte(fit)}, make([]byte, fit))
	d := newDriver(t, c)
	want := cat(frame(`94 01 01 c0 c4`), []byte{byte(fit)}, make([]byte, fit))
	if got := d.run(in); !bytes.Equal(got, want) || d.closed {
		t.Fatalf("%d bytes: got %q closed=%v, want %q", len(in), hexOf(got), d.closed, hexOf(want))
	}
	in = cat(head, []byte{byte(fit + 1)})
	d = newDriver(t, c)
	if got := d.run(in); len(got) != 0 || !d.closed {
		t.Fatalf("%d bytes declared: got %q closed=%v, want nothing and closed", max+1, hexOf(got), d.closed)
	}
}

// TestPartialFrame: while a frame is partly buffered the session is in
// PhaseHead, holds a Walker of its own, which goes back to the loop when
// the frame completes, and says how many bytes it needs when a payload is
// outstanding (mpack.MinNeed or more), not when the frame is nearly whole.
func TestPartialFrame(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	s := d.s.(*session)
	payload := bytes.Repeat([]byte{'p'}, 400)
	in := cat(frame(`94 00 01 a4 "echo" 91 c5 01 90`), payload)
	d.feed(in[:13]) // up to the bin's length
	if d.phase != codec.PhaseHead || d.need != len(in) || !s.fr.Partial() || len(d.out) != 0 {
		t.Fatalf("got phase=%v need=%d partial=%v out=%q, want head, %d, a walker, nothing",
			d.phase, d.need, s.fr.Partial(), d.out, len(in))
	}
	d.feed(in[13:200])
	if d.need != len(in) || d.calls != 1 {
		t.Fatalf("got need=%d after %d calls, want %d and no call before the bytes are in", d.need, d.calls, len(in))
	}
	d.feed(in[200:])
	want := cat(frame(`94 01 01 c0 c5 01 90`), payload)
	if !bytes.Equal(d.out, want) || d.phase != codec.PhaseIdle || d.need != 0 || s.fr.Partial() {
		t.Fatalf("got %q phase=%v need=%d partial=%v, want %q, idle, 0, none", hexOf(d.out), d.phase, d.need, s.fr.Partial(), hexOf(want))
	}
	if l := s.l; l.walkers.Spares() != 1 {
		t.Fatalf("got %d spare walkers, want the one given back", l.walkers.Spares())
	}
	// A frame a few bytes short: Need stays 0, so that a bad header in the
	// bytes still to come is seen as soon as it arrives.
	small := frame(`94 00 02 a4 "echo" 91 a2 "hi"`)
	d.feed(small[:8])
	if d.phase != codec.PhaseHead || d.need != 0 || !s.fr.Partial() {
		t.Fatalf("near-whole frame: got phase=%v need=%d partial=%v, want head, 0, a walker", d.phase, d.need, s.fr.Partial())
	}
}

// TestSharedWalker: sessions of one loop walk with the loop's Walker; the
// partial frames of several connections, interleaved, do not mix.
func TestSharedWalker(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	a, b, z := newDriver(t, c), newDriver(t, c), newDriver(t, c)
	reqA := frame(`94 00 01 a4 "echo" 91 92 a5 "alpha" 93 01 02 03`)
	reqB := frame(`94 00 02 a4 "echo" 91 81 a4 "beta" 92 c3 c2`)
	for i := range 6 {
		a.feed(reqA[i*len(reqA)/6 : (i+1)*len(reqA)/6])
		z.feed(ping1) // whole frames in between, on the shared Walker
		b.feed(reqB[i*len(reqB)/6 : (i+1)*len(reqB)/6])
	}
	if want := frame(`94 01 01 c0 92 a5 "alpha" 93 01 02 03`); !bytes.Equal(a.out, want) {
		t.Errorf("a: got %q, want %q", hexOf(a.out), hexOf(want))
	}
	if want := frame(`94 01 02 c0 81 a4 "beta" 92 c3 c2`); !bytes.Equal(b.out, want) {
		t.Errorf("b: got %q, want %q", hexOf(b.out), hexOf(want))
	}
	if want := bytes.Repeat(pong1, 6); !bytes.Equal(z.out, want) {
		t.Errorf("z: got %q, want %q", hexOf(z.out), hexOf(want))
	}
}

// TestPrivateLoop: a connection on a loop the codec was not told of is
// served from scratch space of its own.
func TestPrivateLoop(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	conn := &fakeConn{loop: 5}
	d := &driver{t: t, conn: conn, s: c.NewSession(conn), limit: 1 << 20}
	if got := d.run(ping1[:4], ping1[4:]); !bytes.Equal(got, pong1) {
		t.Fatalf("got %q, want %q", hexOf(got), hexOf(pong1))
	}
	if d.s.(*session).l == c.loops.Get(0) {
		t.Fatalf("got the scratch space of loop 0")
	}
}

// TestBackpressure: Serve stops dispatching once f.Out reaches f.Limit,
// after one frame at least, and leaves the rest; the answers are the same.
func TestBackpressure(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	in := cat(ping1, ping2, ping1, frame(`93 02 a4 "note" 90`), ping2)
	d := newDriver(t, c)
	d.limit = 1
	f := d.flow()
	n := d.s.Serve(in, f)
	if n != len(ping1) || !bytes.Equal(f.Out, pong1) || f.Phase != codec.PhaseHead || f.Close {
		t.Fatalf("got %d consumed, %q, phase %v, close %v; want %d, %q, head, open", n, hexOf(f.Out), f.Phase, f.Close, len(ping1), hexOf(pong1))
	}
	d = newDriver(t, c)
	d.limit = 1
	if got, want := d.run(in), cat(pong1, pong2, pong1, pong2); !bytes.Equal(got, want) || d.calls != 5 {
		t.Fatalf("got %q in %d calls, want %q in 5", hexOf(got), d.calls, hexOf(want))
	}
}

// TestDraining: while the engine drains, every complete frame buffered is
// answered, and the connection closes after the last; a partial frame is
// waited for first.
func TestDraining(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	d.draining = true
	if got, want := d.run(cat(ping1, ping2)), cat(pong1, pong2); !bytes.Equal(got, want) || !d.closed {
		t.Fatalf("got %q closed=%v, want %q and closed", hexOf(got), d.closed, hexOf(want))
	}

	d = newDriver(t, c)
	d.draining = true
	d.feed(cat(ping1, ping2[:3]))
	if !bytes.Equal(d.out, pong1) || d.closed || d.phase != codec.PhaseHead {
		t.Fatalf("got %q closed=%v phase=%v, want %q, open, head", hexOf(d.out), d.closed, d.phase, hexOf(pong1))
	}
	d.feed(ping2[3:])
	if got, want := d.out, cat(pong1, pong2); !bytes.Equal(got, want) || !d.closed {
		t.Fatalf("got %q closed=%v, want %q and closed", hexOf(got), d.closed, hexOf(want))
	}
}

// TestRefuse: a partial frame that times out, or that the input budget
// refuses, counts as an error, gives its Walker back and gets an error
// response when its msgid has arrived; an idle connection just closes.
// After an overload the calls on the offload pool are answered first.
func TestRefuse(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	timedOut := AppendError(nil, 1, errTimeout)
	for _, tt := range []struct {
		name string
		fed  []byte
		want []byte
	}{
		{"msgid here", ping1[:3], timedOut},
		{"msgid not here", ping1[:2], nil},
		{"a notification", frame(`93 02 a4 "pi"`), nil},
	} {
		d := newDriver(t, c)
		d.feed(tt.fed)
		s := d.s.(*session)
		d.refuse(codec.RefuseTimeout)
		if d.errors != 1 || !bytes.Equal(d.out, tt.want) || s.fr.Partial() || !d.closed {
			t.Errorf("%s: got errors=%d out=%q partial=%v closed=%v, want 1, %q, no Walker, closed",
				tt.name, d.errors, hexOf(d.out), s.fr.Partial(), d.closed, hexOf(tt.want))
		}
	}
	d := newDriver(t, c)
	d.feed(ping1)
	d.refuse(codec.RefuseTimeout)
	if d.errors != 0 || !bytes.Equal(d.out, pong1) {
		t.Fatalf("idle: got errors=%d out=%q, want 0 and only the earlier answer", d.errors, hexOf(d.out))
	}

	pool := &fakePool{size: -1}
	c = testCodec(t, codec.Limits{}, pool)
	d = newDriver(t, c)
	d.feed(cat(slow1, ping1[:3]))
	d.refuse(codec.RefuseOverload)
	busy := AppendError(nil, 1, errOverload)
	if !bytes.Equal(d.out, busy) || d.closed || !d.busy {
		t.Fatalf("overload: got %q closed=%v busy=%v, want %q, open while the call runs", hexOf(d.out), d.closed, d.busy, hexOf(busy))
	}
	d.feed(ping2) // refused: nothing more is read
	pool.run()
	d.deliver()
	if want := cat(busy, slowAns1); !bytes.Equal(d.out, want) || !d.closed {
		t.Fatalf("overload: got %q closed=%v, want %q and closed", hexOf(d.out), d.closed, hexOf(want))
	}
}

// TestCloseGivesBackWalker: a connection closed in the middle of a frame
// returns its Walker to the loop.
func TestCloseGivesBackWalker(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	d.feed(ping1[:5])
	s := d.s.(*session)
	if !s.fr.Partial() {
		t.Fatal("got no walker for a partial frame")
	}
	d.close()
	if s.fr.Partial() || c.loops.Get(0).walkers.Spares() != 1 {
		t.Fatalf("got own=%v, %d spares; want none and 1", s.fr.Partial(), c.loops.Get(0).walkers.Spares())
	}
}

// TestIdleSessionIsSmall: an idle connection holds no Walker and a session
// of a few words: the engine's budget is 1 KB per idle connection.
func TestIdleSessionIsSmall(t *testing.T) {
	if got := unsafe.Sizeof(session{}); got > 64 {
		t.Errorf("got a session of %d bytes, want at most 64", got)
	}
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	d.run(ping1[:3], ping1[3:])
	if s := d.s.(*session); s.fr.Partial() {
		t.Errorf("got an idle session holding a Walker")
	}
}

// TestSpareWalkersBounded: a loop keeps at most mpack.MaxSpareWalkers Walkers.
func TestSpareWalkersBounded(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	var ds []*driver
	for range mpack.MaxSpareWalkers + 10 {
		d := newDriver(t, c)
		d.feed(ping1[:2])
		ds = append(ds, d)
	}
	for _, d := range ds {
		d.feed(ping1[2:])
		if !bytes.Equal(d.out, pong1) {
			t.Fatalf("got %q, want %q", hexOf(d.out), hexOf(pong1))
		}
	}
	if got := c.loops.Get(0).walkers.Spares(); got != mpack.MaxSpareWalkers {
		t.Fatalf("got %d spare walkers, want %d", got, mpack.MaxSpareWalkers)
	}
}

// TestPanicCounted: a method panic is answered and counted, and the
// connection goes on.
func TestPanicCounted(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	got := d.run(cat(frame(`94 00 09 a5 "panic" 90`), ping1))
	if want := cat(frame(`94 01 09 ae "internal error" c0`), pong1); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", hexOf(got), hexOf(want))
	}
	if d.panics != 1 || d.requests != 2 || d.closed {
		t.Fatalf("got panics=%d requests=%d closed=%v, want 1, 2, open", d.panics, d.requests, d.closed)
	}
}

// TestNew: the codec is registered, and needs a registry.
func TestNew(t *testing.T) {
	f, err := codec.Lookup("msgpackrpc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f(codec.Env{}); err == nil {
		t.Errorf("got no error for an Env without Handlers")
	}
	cd, err := f(codec.Env{Handlers: testRegistry(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cd.(*Codec).lim, (mpack.Limits{MaxFrame: codec.DefaultMaxFrame}); got != want {
		t.Errorf("got limits %+v, want %+v", got, want)
	}
}

// TestUnknownMethodQuoteBounded: the error quotes at most codec.MaxQuoted
// bytes of the name, which is the peer's and may be a frame's size.
func TestUnknownMethodQuoteBounded(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	d := newDriver(t, c)
	name := bytes.Repeat([]byte{0xff}, 100_000)
	req := mpack.AppendArrayHeader(nil, 4)
	req = mpack.AppendUint(req, 0)
	req = mpack.AppendUint(req, 1)
	req = mpack.AppendStrBytes(req, name)
	req = mpack.AppendArrayHeader(req, 0)
	got := d.run(req)
	if len(got) > 400 || !bytes.Contains(got, []byte(`"...`)) {
		t.Fatalf("got %d bytes (%q), want a short error with the name cut", len(got), got)
	}
}
