package http1

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/offload"
)

// session is the state of one connection: only the progress through a
// request that is partly buffered. Everything else lives in the loop's
// scratch space.
type session struct {
	c       *Codec
	l       *loop
	conn    codec.Conn
	head    Head    // the head being parsed, then its framing
	body    Chunked // the chunked body being checked
	sent100 bool    // "100 Continue" was sent for this request
	// closing: the reactor refused the connection while it waited for an
	// answer (PhaseWait); that answer closes it. Beside sent100, in what
	// would be padding: the session stays in its size class.
	closing atomic.Bool
	// stream is the body being streamed, if any (handlers.Response.Stream).
	// Set off the loop for a blocking handler, hence atomic.
	stream atomic.Pointer[bodyWriter]
	// waiting is the deferred answer not yet given, if any.
	waiting atomic.Pointer[deferred]
}

// reset forgets the request in progress.
func (s *session) reset() {
	if s.head.Chunked {
		s.body.Reset() // only a chunked body moved it
	}
	s.head.Reset()
	s.sent100 = false
}

// Serve answers every complete request at the start of in, in order.
func (s *session) Serve(in []byte, f *codec.Flow) int {
	f.Need, f.Phase = 0, codec.PhaseIdle
	off := 0
	for served := 0; off < len(in); served++ {
		if served > 0 && len(f.Out) >= f.Limit {
			// Backpressure. What is left is the start of a request that
			// waits; its header timeout runs meanwhile.
			f.Phase = codec.PhaseHead
			return off
		}
		n, done := s.serveOne(in[off:], f)
		if !done || f.Close || f.Phase == codec.PhaseWait {
			// PhaseWait: a request went to the offload pool. What
			// follows waits for its response, to keep the order.
			return off + n
		}
		off += n
	}
	return off
}

// serveOne serves the request at the start of buf and reports the bytes it
// used and whether it was served. When it was not, either it is incomplete
// (0 bytes; f.Phase and f.Need say what is missing) or it was refused (all
// of buf; f.Close is set).
func (s *session) serveOne(buf []byte, f *codec.Flow) (int, bool) {
	p, l, h := s.c.p, s.l, &s.head
	req := &l.req
	if h.Complete() {
		// The head came in an earlier call. Check that the body is here
		// before filling the request again.
		if err := s.bodyReady(buf); err != nil {
			return s.stop(err, buf, f), false
		}
	}
	req.Headers = l.fields[:0]
	if _, err := p.parseHead(buf, req, h, &l.hosts); err != nil {
		return s.stop(err, buf, f), false
	}
	n := h.Len
	switch {
	case h.Chunked:
		m, err := p.ParseChunked(buf[n:], req, &s.body)
		if err != nil {
			return s.stop(err, buf, f), false
		}
		n += m
	case h.ContentLength > 0:
		end := n + int(h.ContentLength)
		if len(buf) < end {
			return s.stop(codec.ErrIncomplete, buf, f), false
		}
		req.Body = buf[n:end:end]
		n = end
	}
	// While draining, every request already received, whole or in part, is
	// answered, and only the last says Connection: close: dropping the
	// others would lose requests the client had every right to send.
	last := f.Draining && !s.more(buf[n:])
	s.dispatch(req, f, last)
	s.reset()
	return n, true
}

// more reports whether buf holds the start of another request that may
// still be served: a well-formed head, complete or not. It reads buf
// without changing it or the request being served, and runs only while the
// engine drains. Malformed bytes count as nothing: the request being served
// is then the last.
func (s *session) more(buf []byte) bool {
	if len(buf) == 0 {
		return false
	}
	p, l := s.c.p, s.l
	if l.peekFields == nil {
		l.peekFields = make([]handlers.Header, 0, p.lim.MaxHeaders)
	}
	l.peek.Headers = l.peekFields[:0]
	var h Head
	_, err := p.ParseHead(buf, &l.peek, &h)
	return err == nil || err == codec.ErrIncomplete
}

// bodyReady reports codec.ErrIncomplete while the body of the request
// whose head is complete is not all in buf.
func (s *session) bodyReady(buf []byte) error {
	h := &s.head
	if h.Chunked {
		maxTrailers := s.c.p.lim.MaxHeaders - int(h.s.fields)
		return s.c.p.scanChunked(buf[h.Len:], &s.body, maxTrailers)
	}
	if int64(len(buf)-h.Len) < h.ContentLength {
		return codec.ErrIncomplete
	}
	return nil
}

// stop handles an incomplete or refused request and returns the bytes
// consumed: none when incomplete, len(buf) when refused (the connection
// closes and nothing after the error is read).
func (s *session) stop(err error, buf []byte, f *codec.Flow) int {
	h := &s.head
	if err == codec.ErrIncomplete {
		if !h.Complete() {
			f.Phase = codec.PhaseHead
			return 0
		}
		f.Phase = codec.PhaseBody
		if h.Chunked {
			if s.body.Need > 0 {
				f.Need = h.Len + s.body.Need
			}
		} else {
			f.Need = h.Len + int(h.ContentLength)
		}
		if h.Continue && !s.sent100 {
			f.Out = append(f.Out, continueLine...)
			s.sent100 = true
		}
		return 0
	}
	status, msg := 400, msgRequestLine
	if e, ok := err.(*Error); ok {
		status, msg = e.Status, e.Msg
	}
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("http1: request refused", "status", status, "err", err,
			"remote", s.conn.RemoteAddr())
	}
	f.Out = AppendError(f.Out, status, msg)
	f.Errors++
	f.Close = true
	s.reset()
	return len(buf)
}

// dispatch routes req, calls its handler and appends the response. last
// marks the last request served before the connection closes for a drain.
// A blocking handler goes to the offload pool instead: f.Phase is then
// PhaseWait, and its response comes later through Post.
func (s *session) dispatch(req *handlers.Request, f *codec.Flow, last bool) {
	l := s.l
	w := &l.w
	w.Reset()
	req.Conn = s.conn
	req.Close = req.Close || last
	h := s.c.reg.RouteCached(req, &l.routes)
	f.Requests++
	keepAlive := s.head.KeepAlive
	if handlers.Blocks(h, req) {
		if s.offload(h, req, keepAlive) {
			f.Phase = codec.PhaseWait
			req.Conn = nil
			return
		}
		busy(w)
		s.respond(f, w, req, keepAlive, false)
	} else {
		w.SetStreamer(s)
		v, panicked := call(h, w, req)
		if panicked {
			s.handlerPanic(v, req, f)
		}
		if w.Deferred() {
			s.deferredBy(f, w, panicked, true)
		} else {
			s.respond(f, w, req, keepAlive, panicked)
		}
	}
	req.Conn = nil
	if cap(w.Body()) > maxKeptBody {
		*w = handlers.Response{}
	}
}

// respond appends the response w to req, or a 500 when the handler
// panicked or set an invalid status.
func (s *session) respond(f *codec.Flow, w *handlers.Response, req *handlers.Request, keepAlive, panicked bool) {
	switch {
	case panicked:
		f.Out = AppendError(f.Out, 500, msgPanic)
		f.Close = true
	case !validStatus(w.Status()):
		f.Out = AppendError(f.Out, 500, msgInvalidStatus)
		f.Close = true
	default:
		conn := connNone
		switch {
		case req.Close || w.WantsClose():
			conn = connClose
			f.Close = true
		case keepAlive:
			conn = connKeepAlive
		}
		f.Out = appendResponse(f.Out, w, string(req.Method) == "HEAD", conn)
	}
}

// handlerPanic logs and counts a handler's panic; the connection closes
// after the 500 that respond sends.
func (s *session) handlerPanic(p *handlerPanic, req *handlers.Request, f *codec.Flow) {
	f.Panics++
	s.c.log.Error("http1: handler panic", "panic", p.v, "method", string(req.Method),
		"path", string(req.Path), "stack", string(p.stack))
}

// offload runs h for a copy of req on the pool and reports whether the
// pool took it. The response is appended by a Post, which also ends
// PhaseWait so that the requests behind it are served.
func (s *session) offload(h handlers.Handler, req *handlers.Request, keepAlive bool) bool {
	if s.c.pool == nil {
		return false
	}
	r := req.Clone()
	r.Conn = offload.Detach(r.Conn) // the connection may close, and be recycled, meanwhile
	conn := s.conn
	// The copy counts against the input budget until the handler returns;
	// the request is dropped, unrun, if the client leaves while it waits.
	return s.c.pool.Go(r.Conn.Context(), r.Size(), func() {
		w := new(handlers.Response)
		w.SetStreamer(&offloadStreamer{s, conn, r, keepAlive})
		v, panicked := call(h, w, r)
		conn.Post(func(f *codec.Flow) {
			if panicked {
				s.handlerPanic(v, r, f)
			}
			if w.Deferred() {
				s.deferredBy(f, w, panicked, false)
				return
			}
			f.Phase = codec.PhaseIdle
			r.Close = r.Close || s.closing.Load() // refused meanwhile: the last answer
			s.respond(f, w, r, keepAlive, panicked)
		})
	})
}

// deferredBy follows a handler that deferred its answer (Defer, Stream).
// Called from Serve, the requests behind wait for the answer; called from
// the Post of an offloaded handler, they already wait (PhaseWait since the
// offload), unless the answer came first. A handler that panicked gets the
// 500 if it had not answered yet, and a streamed answer is cut: the
// connection closes without the end of the body.
func (s *session) deferredBy(f *codec.Flow, w *handlers.Response, panicked, fromServe bool) {
	d := w.Defer().(*deferred)
	if panicked {
		d.onLoop.Store(true) // this is the loop: Abort must not wait
		d.panicked.Store(true)
		if !d.taken.Swap(true) {
			s.waiting.CompareAndSwap(d, nil)
			d.finish()
			f.Out = AppendError(f.Out, 500, msgPanic)
			f.Close = true
			return
		}
		if b := s.stream.Load(); b != nil && b.d == d {
			_ = b.Abort()
		}
	}
	d.onLoop.Store(false)
	if fromServe {
		f.Phase = codec.PhaseWait
	}
}

// busy answers a blocking request that the full offload pool could not
// take: 503, and the client may try again.
func busy(w *handlers.Response) {
	w.Reset()
	w.SetStatus(503)
	w.Header("Retry-After", "1")
	w.SetContentType("text/plain; charset=utf-8")
	w.WriteString("503 Service Unavailable: busy\n")
}

// call runs the handler and recovers its panic.
// The panic comes back as a value with the stack where it happened, for
// the log line.
func call(h handlers.Handler, w *handlers.Response, r *handlers.Request) (p *handlerPanic, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			p, panicked = &handlerPanic{v, debug.Stack()}, true
		}
	}()
	h.ServeHTTP(w, r)
	return nil, false
}

type handlerPanic struct {
	v     any
	stack []byte
}

// Refuse answers a request partly received: 408 after a timeout, 503
// (Retry-After) when the engine's input budget is spent; an idle
// connection just closes. A connection waiting for a request on the
// offload pool cannot answer out of order: its pending answer will be the
// last, with Connection: close.
func (s *session) Refuse(r codec.Refusal, p codec.Phase, _ []byte, f *codec.Flow) {
	switch {
	case p == codec.PhaseWait:
		s.closing.Store(true)
	case p != codec.PhaseHead && p != codec.PhaseBody:
	case r == codec.RefuseOverload:
		f.Out = appendError(f.Out, 503, msgOverload, "Retry-After: 1\r\n")
		f.Errors++
		f.Close = true
	default:
		f.Out = AppendError(f.Out, 408, msgTimeout)
		f.Errors++
		f.Close = true
	}
	s.reset()
}

// Close releases the connection.
func (s *session) Close() {
	if b := s.stream.Load(); b != nil {
		b.out.Abandon() // its writer learns that the client is gone
	}
	if d := s.waiting.Load(); d != nil {
		d.finish()
	}
	s.reset()
	s.conn = nil
}
