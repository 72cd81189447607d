package codec

import (
	"sync"

	"github.com/tokamak-io/tokamak/handlers"
)

// DefaultOutboxWindow is the window codecs give their outboxes: the bytes
// one stream may have queued for the loop before its writer waits.
const DefaultOutboxWindow = 64 << 10

// Outbox carries the output of one stream that is written from outside a
// call of the session — by a handler that kept its stream past the call,
// from any goroutine — to the connection's event loop, in order.
//
// Writers append whole encoded messages to a queue under a lock; the first
// message of an empty queue posts a flush ([Conn.PostWritable]), which
// moves the whole queue into the loop's output once the connection's
// output is below its high-water mark. A writer that finds the window
// full waits until the loop has taken the queue: so a stream holds at most
// window bytes plus one message, and a peer that stops reading stops its
// writers instead of growing the server's memory.
//
// The stream ends with [Outbox.End], whose message is the last; the end
// hook given to [NewOutbox] then runs on the loop, right after that
// message is appended to the output. It ends without the hook when the
// session calls [Outbox.Abandon] (the connection closed): writers, waiting
// or not, get [handlers.ErrStreamClosed].
type Outbox struct {
	conn   Conn
	window int
	end    func(f *Flow)
	flush  func(f *Flow) // o.run, bound once

	mu        sync.Mutex
	cond      sync.Cond
	q         []byte
	posted    bool // a flush is posted and has not run yet
	ending    bool // End was called; the hook runs after the next flush
	closed    bool // no more messages: End was called or the outbox abandoned
	abandoned bool
	done      chan struct{}
}

// NewOutbox returns the outbox of a stream on c. end runs on the loop once
// the last message has been appended to the output; it may set the Flow's
// phase, close the connection, or release the session's state of the
// stream. window <= 0 means [DefaultOutboxWindow].
func NewOutbox(c Conn, window int, end func(f *Flow)) *Outbox {
	if window <= 0 {
		window = DefaultOutboxWindow
	}
	o := &Outbox{conn: c, window: window, end: end, done: make(chan struct{})}
	o.cond.L = &o.mu
	o.flush = o.run
	return o
}

// Append queues one message, which enc appends to the slice it is given.
// With wait set it first waits while the queue holds a window's worth:
// writers off the event loop wait, a session on the loop must not (the
// loop is what empties the queue). enc runs under the outbox's lock and
// must not call the outbox. It returns handlers.ErrStreamClosed, queueing nothing,
// once the stream has ended or the connection has closed.
func (o *Outbox) Append(wait bool, enc func(q []byte) []byte) error {
	return o.add(wait, false, enc)
}

// End queues the last message (none when enc is nil) and ends the stream:
// later calls get handlers.ErrStreamClosed, and Done is closed. It waits like
// Append.
func (o *Outbox) End(wait bool, enc func(q []byte) []byte) error {
	return o.add(wait, true, enc)
}

func (o *Outbox) add(wait, last bool, enc func(q []byte) []byte) error {
	o.mu.Lock()
	for wait && len(o.q) >= o.window && !o.closed {
		o.cond.Wait()
	}
	if o.closed {
		o.mu.Unlock()
		return handlers.ErrStreamClosed
	}
	if enc != nil {
		o.q = enc(o.q)
	}
	if last {
		o.ending, o.closed = true, true
		close(o.done)
	}
	post := !o.posted
	o.posted = true
	o.mu.Unlock()
	// Outside the lock: a Conn may run fn before PostWritable returns.
	if post && !o.conn.PostWritable(o.flush) {
		o.Abandon() // the connection is gone: the message with it
		return handlers.ErrStreamClosed
	}
	return nil
}

// run is the posted flush: it moves the queue into the output, on the
// loop, and runs the end hook after the last message.
func (o *Outbox) run(f *Flow) {
	o.mu.Lock()
	if o.abandoned {
		o.mu.Unlock()
		return
	}
	f.Out = append(f.Out, o.q...)
	if cap(o.q) > 2*o.window {
		o.q = nil // a big message passed: do not keep its buffer
	} else {
		o.q = o.q[:0]
	}
	o.posted = false
	ending := o.ending
	o.ending = false
	o.mu.Unlock()
	o.cond.Broadcast()
	if ending && o.end != nil {
		o.end(f)
	}
}

// Abandon ends the stream without its end hook: the connection has closed
// (the session calls it from Close) or cannot take the flush. Waiting
// writers wake and get handlers.ErrStreamClosed; what was queued is dropped.
func (o *Outbox) Abandon() {
	o.mu.Lock()
	if !o.closed {
		close(o.done)
	}
	o.closed, o.abandoned, o.ending = true, true, false
	o.q = nil
	o.mu.Unlock()
	o.cond.Broadcast()
}

// Done is closed when the stream has ended: by End, or because the
// connection closed.
func (o *Outbox) Done() <-chan struct{} { return o.done }

// Closed reports whether the stream has ended.
func (o *Outbox) Closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}
