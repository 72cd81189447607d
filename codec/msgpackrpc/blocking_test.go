package msgpackrpc

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

var (
	slow1    = frame(`94 00 01 a4 "slow" 91 a1 "a"`)
	slowAns1 = frame(`94 01 01 c0 a1 "a"`)
	slow3    = frame(`94 00 03 a4 "slow" 91 a1 "c"`)
	slowAns3 = frame(`94 01 03 c0 a1 "c"`)
)

// TestBlockingOutOfOrder: a blocking call is answered when it completes,
// after the inline calls that came after it; the session is busy until
// then.
func TestBlockingOutOfOrder(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(cat(slow1, ping2, slow3))
	if !bytes.Equal(d.out, pong2) || !d.busy || d.phase != codec.PhaseIdle || len(d.in) != 0 {
		t.Fatalf("got %q busy=%v phase=%v left=%d, want %q, busy, idle, nothing left", hexOf(d.out), d.busy, d.phase, len(d.in), hexOf(pong2))
	}
	// The second blocking call completes first.
	pool.queue[0], pool.queue[1] = pool.queue[1], pool.queue[0]
	pool.run()
	d.deliver()
	if want := cat(pong2, slowAns3); !bytes.Equal(d.out, want) || !d.busy {
		t.Fatalf("got %q busy=%v, want %q and still busy", hexOf(d.out), d.busy, hexOf(want))
	}
	pool.run()
	d.deliver()
	if want := cat(pong2, slowAns3, slowAns1); !bytes.Equal(d.out, want) || d.busy || d.closed {
		t.Fatalf("got %q busy=%v closed=%v, want %q, not busy, open", hexOf(d.out), d.busy, d.closed, hexOf(want))
	}
	if d.requests != 3 {
		t.Errorf("got %d requests, want 3", d.requests)
	}
}

// TestBlockingBusy: a full pool answers "busy" at once; so does no pool.
func TestBlockingBusy(t *testing.T) {
	pool := &fakePool{size: 1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(cat(slow1, ping2, slow3))
	busy3 := frame(`94 01 03 a4 "busy" c0`)
	if want := cat(pong2, busy3); !bytes.Equal(d.out, want) || !d.busy {
		t.Fatalf("got %q busy=%v, want %q and busy", hexOf(d.out), d.busy, hexOf(want))
	}
	pool.run()
	d.deliver()
	if want := cat(pong2, busy3, slowAns1); !bytes.Equal(d.out, want) || d.busy {
		t.Fatalf("got %q busy=%v, want %q, not busy", hexOf(d.out), d.busy, hexOf(want))
	}
}

// TestBlockingErrors: a blocking method's error and panic are answered
// like an inline one's, and the panic is counted.
func TestBlockingErrors(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(frame(`94 00 01 a8 "slowfail" 90  94 00 02 a9 "slowpanic" 90`))
	for pool.run() {
	}
	d.deliver()
	want := frame(`94 01 01 ac "slow failure" c0  94 01 02 ae "internal error" c0`)
	if !bytes.Equal(d.out, want) || d.panics != 1 || d.busy {
		t.Fatalf("got %q panics=%d busy=%v, want %q, 1, not busy", hexOf(d.out), d.panics, d.busy, hexOf(want))
	}
}

// TestBlockingNotification: a blocking notification runs on the pool and
// is never answered, not even when the pool is full.
func TestBlockingNotification(t *testing.T) {
	pool := &fakePool{size: 1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(frame(`93 02 a4 "slow" 91 01  93 02 a9 "slowpanic" 90`)) // the second finds the pool full
	if len(d.out) != 0 || !d.busy {
		t.Fatalf("got %q busy=%v, want nothing and busy", hexOf(d.out), d.busy)
	}
	pool.run()
	d.deliver()
	if len(d.out) != 0 || d.busy || d.requests != 2 {
		t.Fatalf("got %q busy=%v requests=%d, want nothing, not busy, 2", hexOf(d.out), d.busy, d.requests)
	}
}

// TestDrainWaitsForBlocking: a draining connection with calls on the pool
// stays open, busy, until the last answer, which closes it.
func TestDrainWaitsForBlocking(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.draining = true
	d.feed(cat(slow1, ping2, slow3))
	if !bytes.Equal(d.out, pong2) || d.closed || !d.busy {
		t.Fatalf("got %q closed=%v busy=%v, want %q, open, busy", hexOf(d.out), d.closed, d.busy, hexOf(pong2))
	}
	pool.run()
	d.deliver()
	if d.closed || !d.busy {
		t.Fatalf("after one answer: got closed=%v busy=%v, want open and busy", d.closed, d.busy)
	}
	pool.run()
	d.deliver()
	if want := cat(pong2, slowAns1, slowAns3); !bytes.Equal(d.out, want) || !d.closed {
		t.Fatalf("got %q closed=%v, want %q and closed", hexOf(d.out), d.closed, hexOf(want))
	}
}

// TestDrainWaitsForPartialFrame: while draining, the last blocking answer
// does not close a connection in the middle of a frame: the frame is
// answered first.
func TestDrainWaitsForPartialFrame(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.draining = true
	d.feed(cat(slow1, ping2[:4]))
	pool.run()
	d.deliver()
	if d.closed || d.busy || d.phase != codec.PhaseHead {
		t.Fatalf("got closed=%v busy=%v phase=%v, want open, not busy, head", d.closed, d.busy, d.phase)
	}
	d.feed(ping2[4:])
	if want := cat(slowAns1, pong2); !bytes.Equal(d.out, want) || !d.closed {
		t.Fatalf("got %q closed=%v, want %q and closed", hexOf(d.out), d.closed, hexOf(want))
	}
}

// TestMalformedWaitsForBlocking: after a malformed frame nothing more is
// served, but the calls made before it are still answered, then the
// connection closes.
func TestMalformedWaitsForBlocking(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(cat(slow1, ping2, frame(`94 01 01 c0 c0`), ping1))
	if !bytes.Equal(d.out, pong2) || d.closed || !d.busy || d.errors != 1 || len(d.in) != 0 {
		t.Fatalf("got %q closed=%v busy=%v errors=%d left=%d, want %q, open, busy, 1, nothing left",
			hexOf(d.out), d.closed, d.busy, d.errors, len(d.in), hexOf(pong2))
	}
	d.feed(ping1) // dropped
	pool.run()
	d.deliver()
	if want := cat(pong2, slowAns1); !bytes.Equal(d.out, want) || !d.closed {
		t.Fatalf("got %q closed=%v, want %q and closed", hexOf(d.out), d.closed, hexOf(want))
	}
}

// TestClosedWithPendingCalls: a connection that closes while calls are on
// the pool drops their answers; nothing runs on the closed session.
func TestClosedWithPendingCalls(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	d.feed(slow1)
	d.close()
	pool.run()
	if fn := d.conn.next(); fn != nil {
		t.Fatalf("got an answer posted to a closed connection")
	}
	if len(d.out) != 0 {
		t.Fatalf("got %q, want nothing", hexOf(d.out))
	}
}

// TestPendingBoundedPerConnection: one connection may have at most
// rpccall.MaxPending calls on the pool; the next is answered busy at once,
// however much room the pool has.
func TestPendingBoundedPerConnection(t *testing.T) {
	pool := &fakePool{size: -1}
	c := testCodec(t, codec.Limits{}, pool)
	d := newDriver(t, c)
	var in []byte
	for i := range rpccall.MaxPending + 1 {
		in = append(in, frame(fmt.Sprintf(`94 00 cd %02x %02x a4 "slow" 91 a1 "a"`, (i+1)>>8, (i+1)&0xff))...)
	}
	d.run(in)
	if len(pool.queue) != rpccall.MaxPending {
		t.Fatalf("got %d calls on the pool, want %d", len(pool.queue), rpccall.MaxPending)
	}
	id := rpccall.MaxPending + 1
	if want := cat([]byte{0x94, 0x01}, mpack.AppendUint(nil, uint64(id)), frame(`a4 "busy" c0`)); !bytes.Equal(d.out, want) {
		t.Fatalf("got %q, want %q", hexOf(d.out), hexOf(want))
	}
	for pool.run() {
	}
	d.deliver()
	if d.busy {
		t.Error("still busy after every answer")
	}
}
