package http1

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// How a streamed body is framed.
const (
	bodyChunked uint8 = iota // Transfer-Encoding: chunked
	bodyClose                // HTTP/1.0: the body ends when the connection closes
	bodyNone                 // HEAD, 204, 205, 304: no body at all
)

// deferred is the handlers.Deferred answer of one request. What framing
// the answer needs is taken from the request when the handler defers.
type deferred struct {
	s         *session
	conn      codec.Conn // captured on creation: the session drops its own on Close
	head      bool       // a HEAD request
	http10    bool
	close     bool // the request asked to close (or the drain did)
	keepAlive bool // an HTTP/1.0 request asked to stay open
	taken     atomic.Bool
	panicked  atomic.Bool // the handler panicked: a stream started meanwhile is cut
	done      chan struct{}
	once      sync.Once
	// onLoop is set while the handler's call runs on the loop: then
	// nothing may wait for the loop.
	onLoop atomic.Bool
}

// Defer implements handlers.Streamer for the request being served on the
// loop (the loop's request and the head being parsed are this request's
// while its handler runs).
func (s *session) Defer(w *handlers.Response) handlers.Deferred {
	d := newDeferred(s, s.conn, &s.l.req, s.head.KeepAlive)
	d.onLoop.Store(true) // deferredBy clears it when the handler returns
	return d
}

func newDeferred(s *session, conn codec.Conn, req *handlers.Request, keepAlive bool) *deferred {
	d := &deferred{s: s, conn: conn, head: string(req.Method) == "HEAD", http10: req.ProtoMinor == 0,
		close: req.Close, keepAlive: keepAlive, done: make(chan struct{})}
	// Known to the session before anything is posted: a Close after this
	// ends it, a Close before it makes every post fail.
	s.waiting.Store(d)
	return d
}

// Done implements handlers.Deferred.
func (d *deferred) Done() <-chan struct{} { return d.done }

func (d *deferred) finish() { d.once.Do(func() { close(d.done) }) }

// offloadStreamer serves Defer for a blocking handler running on the pool.
type offloadStreamer struct {
	s         *session
	conn      codec.Conn
	req       *handlers.Request
	keepAlive bool
}

func (o *offloadStreamer) Defer(w *handlers.Response) handlers.Deferred {
	return newDeferred(o.s, o.conn, o.req, o.keepAlive)
}

// connHeader says what the Connection header of an answer r says, and whether
// the connection closes after it.
func (d *deferred) connHeader(r *handlers.Response) (uint8, bool) {
	switch {
	case d.close || r.WantsClose() || d.s.closing.Load():
		return connClose, true
	case d.keepAlive:
		return connKeepAlive, false
	}
	return connNone, false
}

// Respond implements handlers.Deferred.
func (d *deferred) Respond(r *handlers.Response) error {
	if d.taken.Swap(true) {
		return handlers.ErrStreamClosed
	}
	var out []byte
	closeAfter := true
	if !validStatus(r.Status()) {
		out = AppendError(nil, 500, msgInvalidStatus)
	} else {
		var conn uint8
		conn, closeAfter = d.connHeader(r)
		out = appendResponse(nil, r, d.head, conn)
	}
	if !d.conn.Post(func(f *codec.Flow) {
		f.Out = append(f.Out, out...)
		d.answered(f, closeAfter)
	}) {
		d.finish()
		return handlers.ErrStreamClosed
	}
	return nil
}

// answered ends the wait for a deferred answer, on the loop, once it is in
// the output: the requests behind it are served, or the connection closes.
// A drain does not close here: the requests already buffered behind are
// served first, the last with Connection: close, as without Defer.
func (d *deferred) answered(f *codec.Flow, closeAfter bool) {
	d.s.waiting.CompareAndSwap(d, nil)
	d.finish()
	if closeAfter {
		f.Close = true
		return
	}
	f.Phase = codec.PhaseIdle
}

// Stream implements handlers.Deferred: the head of r and its body so far
// are the first message of the body's Outbox.
func (d *deferred) Stream(r *handlers.Response) (handlers.BodyWriter, error) {
	if !validStatus(r.Status()) {
		_ = d.Respond(r) // a 500, unless answered already
		return nil, handlers.ErrStreamClosed
	}
	if d.taken.Swap(true) {
		return nil, handlers.ErrStreamClosed
	}
	code := r.Status()
	b := &bodyWriter{d: d, framing: bodyChunked}
	switch {
	case d.head || code == 204 || code == 205 || code == 304:
		b.framing = bodyNone
	case d.http10:
		b.framing = bodyClose
	}
	conn, closeAfter := d.connHeader(r)
	if b.framing == bodyClose {
		conn, closeAfter = connClose, true
	}
	b.close = closeAfter
	s := d.s
	b.out = codec.NewOutbox(d.conn, 0, func(f *codec.Flow) { s.streamEnded(f, b) })
	s.stream.Store(b) // as waiting: for Close to abandon the outbox
	head := func(q []byte) []byte {
		q = streamHead(q, r, b.framing, d.http10, conn)
		if b.framing != bodyNone {
			q = b.frame(q, r.Body())
		}
		return q
	}
	if err := b.out.Append(false, head); err != nil {
		d.finish()
		return nil, err
	}
	if d.panicked.Load() { // the handler panicked while this was starting
		_ = b.Abort()
	}
	return b, nil
}

// bodyWriter is the handlers.BodyWriter of a streamed answer: it frames
// each write and hands it to the loop through an Outbox, whose first
// message is the head.
type bodyWriter struct {
	out     *codec.Outbox
	d       *deferred
	framing uint8
	close   bool // close the connection after the body
	aborted bool // set under the Outbox's lock, read by its end hook
}

// streamHead appends the head of a streamed response: chunked, except
// for the answers without a body and for HTTP/1.0 (no Transfer-Encoding
// to it, RFC 9112 §6.1); said to HEAD requests too, as GET would get it.
func streamHead(dst []byte, w *handlers.Response, framing uint8, http10 bool, conn uint8) []byte {
	length := int64(lengthChunked)
	switch code := w.Status(); {
	case code == 205:
		length = 0
	case code == 204 || code == 304 || framing == bodyClose || http10:
		length = lengthNone
	}
	return appendHead(dst, w, length, conn)
}

// frame appends p as body bytes: a chunk, or raw until the close.
func (b *bodyWriter) frame(q, p []byte) []byte {
	if len(p) == 0 {
		return q // an empty chunk would end the body
	}
	if b.framing == bodyChunked {
		q = strconv.AppendUint(q, uint64(len(p)), 16)
		q = append(q, "\r\n"...)
		q = append(q, p...)
		return append(q, "\r\n"...)
	}
	return append(q, p...)
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	if b.framing == bodyNone || len(p) == 0 {
		if b.out.Closed() {
			return 0, handlers.ErrStreamClosed
		}
		return len(p), nil // no body to send: HEAD, 204, 304
	}
	if err := b.out.Append(!b.d.onLoop.Load(), func(q []byte) []byte { return b.frame(q, p) }); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (b *bodyWriter) Close() error {
	return b.out.End(!b.d.onLoop.Load(), func(q []byte) []byte {
		if b.framing == bodyChunked {
			q = append(q, "0\r\n\r\n"...)
		}
		return q
	})
}

func (b *bodyWriter) Abort() error {
	return b.out.End(!b.d.onLoop.Load(), func(q []byte) []byte {
		b.aborted = true
		return q
	})
}

func (b *bodyWriter) Done() <-chan struct{} { return b.out.Done() }

// streamEnded runs on the loop once the body is in the output.
func (s *session) streamEnded(f *codec.Flow, b *bodyWriter) {
	s.stream.CompareAndSwap(b, nil)
	b.d.answered(f, b.close || b.aborted)
}
