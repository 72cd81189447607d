package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"os"
	"sync/atomic"
)

// frameBuf is a connection's read buffer: bytes are read in at w, frames
// are decoded in place from r, and consumed bytes are reclaimed by moving
// the unread tail to the front when room runs short. Views into it are
// valid until the next fill.
type frameBuf struct {
	b    []byte
	r, w int
	max  int // the largest frame; the buffer never grows past it
}

func newFrameBuf(size, max int) *frameBuf {
	return &frameBuf{b: make([]byte, min(size, max)), max: max}
}

// pending returns the bytes read and not yet consumed.
func (f *frameBuf) pending() []byte { return f.b[f.r:f.w] }

// consume marks n pending bytes as decoded.
func (f *frameBuf) consume(n int) { f.r += n }

// fill makes room and reads once from c.
func (f *frameBuf) fill(c net.Conn) (int, error) {
	switch {
	case f.r == f.w:
		f.r, f.w = 0, 0
	case f.r > 0 && len(f.b)-f.w < len(f.b)/4:
		f.w = copy(f.b, f.b[f.r:f.w])
		f.r = 0
	}
	if f.w == len(f.b) { // one incomplete frame fills the buffer
		if len(f.b) >= f.max {
			return 0, fmt.Errorf("rpcload: a frame exceeds %d bytes", f.max)
		}
		nb := make([]byte, min(2*len(f.b), f.max))
		f.w = copy(nb, f.b[f.r:f.w])
		f.r = 0
		f.b = nb
	}
	n, err := c.Read(f.b[f.w:])
	f.w += n
	return n, err
}

// slots hands out msgids for the calls in flight on one connection and
// recognises their answers, which may arrive in any order. The low bits of
// a msgid name a slot, the high bits count the slot's uses, so a late or
// repeated answer does not match a newer call.
type slots struct {
	bits uint
	uses []uint32 // calls made in each slot so far
	ids  []uint32 // the msgid of the call in each busy slot
	busy []bool
	free []uint32
}

func newSlots(n int) *slots {
	s := &slots{
		bits: uint(bits.Len(uint(n - 1))),
		uses: make([]uint32, n),
		ids:  make([]uint32, n),
		busy: make([]bool, n),
		free: make([]uint32, n),
	}
	for i := range s.free {
		s.free[i] = uint32(n - 1 - i) // slot 0 first: the first msgid is 0
	}
	return s
}

// take returns a msgid for a new call; a slot must be free.
func (s *slots) take() uint32 {
	i := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	id := s.uses[i]<<s.bits | i // wraps after 2^(32-bits) uses, as msgids do
	s.uses[i]++
	s.ids[i], s.busy[i] = id, true
	return id
}

// release ends the call with this msgid and reports whether one was in
// flight.
func (s *slots) release(id uint32) bool {
	i := id & (1<<s.bits - 1)
	if int(i) >= len(s.busy) || !s.busy[i] || s.ids[i] != id {
		return false
	}
	s.busy[i] = false
	s.free = append(s.free, i)
	return true
}

// inFlight returns the number of calls not yet answered.
func (s *slots) inFlight() int { return len(s.busy) - len(s.free) }

// tally counts what one connection saw; connections are summed at the end,
// so the hot path touches no shared memory.
type tally struct {
	calls      int64 // answered with the payload, error nil
	rpc        int64 // answered with a non-nil error
	mismatch   int64 // answered with a result other than the payload
	unknownID  int64 // answered with a msgid not in flight
	malformed  int64 // undecodable response; the connection was dropped
	io         int64 // read or write failure before the end
	connect    int64 // the connection could not be made
	unanswered int64 // still in flight when the drain timed out
	first      string
}

func (t *tally) errors() int64 {
	return t.rpc + t.mismatch + t.unknownID + t.malformed + t.io + t.connect + t.unanswered
}

func (t *tally) note(format string, args ...any) {
	if t.first == "" {
		t.first = fmt.Sprintf(format, args...)
	}
}

func (t *tally) add(o *tally) {
	t.calls += o.calls
	t.rpc += o.rpc
	t.mismatch += o.mismatch
	t.unknownID += o.unknownID
	t.malformed += o.malformed
	t.io += o.io
	t.connect += o.connect
	t.unanswered += o.unanswered
	if t.first == "" {
		t.first = o.first
	}
}

// client drives one connection: it keeps depth calls in flight, and every
// answer read lets one more call go, all of a read's worth in one write.
// One goroutine owns everything here.
type client struct {
	nc      net.Conn
	tail    []byte // the request after its msgid (shared, read-only)
	family  string
	payload []byte
	in      *frameBuf
	out     []byte
	slots   *slots
	t       tally
}

// run sends depth calls, then answers each response with a new call until
// stop is set, then waits for the calls in flight. The connection's
// deadline (set by the caller) bounds the wait.
func (c *client) run(depth int, stop *atomic.Bool) {
	defer c.nc.Close()
	for range depth {
		c.send()
	}
	if !c.flush() {
		return
	}
	for {
		_, err := c.in.fill(c.nc)
		stopped := stop.Load()
		for {
			resp, n, perr := parseResponse(c.in.pending(), c.in.max)
			if perr == errIncomplete {
				break
			}
			if perr != nil {
				c.t.malformed++
				c.t.note("%v", perr)
				return
			}
			c.in.consume(n)
			if c.check(resp) && !stopped {
				c.send()
			}
		}
		if !c.flush() {
			return
		}
		if stopped && c.slots.inFlight() == 0 {
			return
		}
		if err != nil {
			var ne net.Error
			if stopped && errors.As(err, &ne) && ne.Timeout() {
				c.t.unanswered += int64(c.slots.inFlight())
				c.t.note("%d calls unanswered when the drain timed out", c.slots.inFlight())
			} else {
				c.t.io++
				c.t.note("read: %v", err)
			}
			return
		}
	}
}

// send appends one request to the output.
func (c *client) send() {
	c.out = append(c.out, 0x94, 0x00)
	c.out = appendUint(c.out, c.slots.take())
	c.out = append(c.out, c.tail...)
}

// flush writes the pending requests and reports whether it succeeded.
func (c *client) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if err != nil {
		c.t.io++
		c.t.note("write: %v", err)
		return false
	}
	return true
}

// check verifies one response, counts it, and reports whether it ended a
// call in flight.
func (c *client) check(r response) bool {
	if !c.slots.release(r.id) {
		c.t.unknownID++
		c.t.note("response to msgid %d, which is not in flight", r.id)
		return false
	}
	if len(r.errVal) != 1 || r.errVal[0] != 0xc0 {
		c.t.rpc++
		if _, msg, ok := strBin(r.errVal); ok {
			c.t.note("rpc error: %.200q", msg)
		} else {
			c.t.note("rpc error: % .64x", r.errVal)
		}
		return true
	}
	family, data, ok := strBin(r.result)
	if !ok || family != c.family || !bytes.Equal(data, c.payload) {
		c.t.mismatch++
		c.t.note("result % .32x is not the %s payload sent", r.result, c.family)
		return true
	}
	c.t.calls++
	return true
}

// logf reports on stderr, which the summary line on stdout does not share.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "rpcload: "+format+"\n", args...)
}
