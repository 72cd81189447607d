package handlers

import (
	"slices"
	"strconv"
)

// Response collects the reply to one request: a status, header fields and a
// body. The codec frames it (status line, Server, Date, Content-Length,
// Connection) after the handler returns.
//
// A Response is owned by the event loop and reused for the next request:
// it is valid only until the handler returns. A handler that answers later
// calls [Response.Defer] or [Response.Stream]. Its buffers keep their
// capacity, so a handler that writes the same shape of answer every time
// allocates nothing.
type Response struct {
	status   int
	close    bool
	header   []byte // "Name: value\r\n" lines, ready to copy to the wire
	body     []byte
	streamer Streamer
	d        Deferred   // set by Defer
	bw       BodyWriter // set by Stream
}

// BodyWriter is the rest of a response body, sent after its handler
// returned (see [Response.Stream] and [Deferred]). Its methods may be called from any
// goroutine but an event loop's — Write waits while a window's worth of
// the body (64 KiB by default) is not yet taken by the connection's loop,
// which takes it only while the client reads, and a client that reads
// nothing for the close timeout is disconnected — except during the
// handler's own call, when they never wait.
//
// The methods return ErrStreamClosed once the body has ended, by Close or
// Abort, or because the connection closed; Done is closed then. The
// requests the client pipelined behind this one wait until the body ends.
type BodyWriter interface {
	// Write sends p as the next part of the body; p is copied before Write
	// returns.
	Write(p []byte) (int, error)
	// Close ends the body normally.
	Close() error
	// Abort ends the response as failed: the connection is closed without
	// the end of the body, so the client sees that it is incomplete.
	Abort() error
	// Done is closed when the body has ended.
	Done() <-chan struct{}
}

// SetStatus sets the status code; the default is 200. Codes outside
// 100–599 are answered as 500.
func (w *Response) SetStatus(code int) { w.status = code }

// Status returns the status code that will be sent.
func (w *Response) Status() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// Header adds a header field. The codec owns the fields that frame the
// message: Content-Length, Transfer-Encoding, Date and Server are dropped
// here, and "Connection: close" is turned into a request to close the
// connection after this response (see [Response.SetClose]); other
// Connection values are dropped. A name that is not a token, or a value
// holding CR, LF or NUL, is dropped too, so a handler cannot split the
// response.
func (w *Response) Header(name, value string) {
	switch {
	case !validName(name) || !validValue(value):
		return
	case equalFold(name, "connection"):
		if equalFold(value, "close") {
			w.close = true
		}
		return
	case equalFold(name, "content-length"),
		equalFold(name, "transfer-encoding"),
		equalFold(name, "date"),
		equalFold(name, "server"):
		return
	}
	w.header = append(w.header, name...)
	w.header = append(w.header, ": "...)
	w.header = append(w.header, value...)
	w.header = append(w.header, "\r\n"...)
}

// SetContentType is shorthand for Header("Content-Type", v).
func (w *Response) SetContentType(v string) { w.Header("Content-Type", v) }

// SetClose asks the codec to close the connection once this response has
// been sent.
func (w *Response) SetClose() { w.close = true }

// Write appends p to the body. It never fails.
func (w *Response) Write(p []byte) (int, error) {
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString appends s to the body. It never fails.
func (w *Response) WriteString(s string) (int, error) {
	w.body = append(w.body, s...)
	return len(s), nil
}

// AppendInt appends the decimal form of n to the body.
func (w *Response) AppendInt(n int64) { w.body = strconv.AppendInt(w.body, n, 10) }

// Body returns the body written so far. Encoders may append to it with
// [Response.SetBody]: w.SetBody(appendX(w.Body(), ...)).
func (w *Response) Body() []byte { return w.body }

// Grow grows the body's buffer, if need be, so that n more bytes fit in it
// without another allocation: a handler that knows about how large its body
// will be spares the copies of growing it step by step. The buffer stays
// the Response's own, so appending to Body() and passing the result to
// SetBody adopts it without a copy.
func (w *Response) Grow(n int) { w.body = slices.Grow(w.body, n) }

// SetBody replaces the body with b. When b is the Response's own buffer,
// grown in place (w.SetBody(appendX(w.Body(), ...))), it is adopted as is;
// any other slice is copied, so b may be a view of the request or a buffer
// the caller goes on using: the Response never keeps memory it does not own
// past the call.
func (w *Response) SetBody(b []byte) {
	if cap(b) > 0 && cap(w.body) > 0 && &b[:1][0] == &w.body[:1][0] {
		w.body = b
		return
	}
	w.body = append(w.body[:0], b...)
}

// Deferred is the answer to a request, given after its handler returned
// (see [Response.Defer]). Its methods may be called from any goroutine;
// the first call of Respond or Stream answers, later ones return
// ErrStreamClosed. The requests the client pipelined behind this one wait
// for the answer.
type Deferred interface {
	// Respond sends r — status, header fields and body, framed with a
	// Content-Length — as the answer. r is copied before Respond returns.
	Respond(r *Response) error
	// Stream sends r's head and body so far, as [Response.Stream] does,
	// and returns the writer of the rest of the body. r is copied before
	// Stream returns. For a status outside 200–599 the client gets a 500
	// and Stream returns ErrStreamClosed.
	Stream(r *Response) (BodyWriter, error)
	// Done is closed once the answer has been handed to the connection —
	// for a streamed one, once its body has ended — or the connection
	// has closed.
	Done() <-chan struct{}
}

// Streamer is how a codec answers a request later. For codecs.
type Streamer interface {
	// Defer returns the Deferred answer of the request w answers.
	Defer(w *Response) Deferred
}

// Defer tells the codec that the handler answers later: nothing is sent
// for this request when the handler returns, and the returned Deferred
// gives the answer, from any goroutine — a handler that waits for another
// service need not hold the event loop. Defer returns the same Deferred
// when called again, and panics for a Response that no codec serves.
func (w *Response) Defer() Deferred {
	if w.d == nil {
		if w.streamer == nil {
			panic("handlers: Defer or Stream on a Response that no codec serves")
		}
		w.d = w.streamer.Defer(w)
	}
	return w.d
}

// Stream sends the response's head now — its status and the header fields
// set so far — with the body written so far, and returns the writer of the
// rest of the body, for a handler that does not know its answer's length
// or writes it later from another goroutine. The body is sent with chunked
// transfer encoding (to an HTTP/1.0 client: until the connection closes);
// the Response is not used after Stream. The handler must end the body
// with Close or Abort.
//
// Stream returns the same writer when called again. For a status outside
// 200–599 it returns nil and the client gets a 500. It panics for a
// Response that no codec serves.
func (w *Response) Stream() BodyWriter {
	if w.bw == nil {
		w.bw, _ = w.Defer().Stream(w)
	}
	return w.bw
}

// Deferred reports whether the handler called Defer or Stream: the codec
// does not answer for it. For codecs.
func (w *Response) Deferred() bool { return w.d != nil }

// SetStreamer sets what serves [Response.Defer] for the current request.
// For codecs.
func (w *Response) SetStreamer(s Streamer) { w.streamer = s }

// HeaderBytes returns the header lines added by the handler, each ending in
// CRLF. For codecs.
func (w *Response) HeaderBytes() []byte { return w.header }

// WantsClose reports whether the handler asked to close the connection.
// For codecs.
func (w *Response) WantsClose() bool { return w.close }

// Reset empties the response for the next request, keeping the capacity of
// its buffers. For codecs.
func (w *Response) Reset() {
	w.status = 0
	w.close = false
	w.header = w.header[:0]
	w.body = w.body[:0]
	w.streamer, w.d, w.bw = nil, nil, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

// IsTokenChar reports whether c may appear in an RFC 9110 token.
func IsTokenChar(c byte) bool { return tokenTable[c] }

var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// addLine appends a header line that is known to be valid and to end in
// CRLF ("Content-Type: text/plain\r\n"), skipping the checks of
// [Response.Header]. For the package's own constant answers.
func (w *Response) addLine(line string) { w.header = append(w.header, line...) }
