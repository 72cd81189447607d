package rpc

import (
	"strconv"
	"sync"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// StreamHTTP returns an HTTP handler that serves each request with the
// stream handler h, opened with event, by the Cocaine HTTP proxy
// convention:
//
//   - the request is one chunk whose data is the msgpack array
//     [method, uri, version, [[name, value], ...], body] — uri is the
//     request target, version "1.1" or "1.0", the headers as received and
//     the decoded body, all str but the body, which is bin — followed by
//     the close of the peer's direction;
//   - the handler's first chunk is the msgpack array [code, [[name, value],
//     ...]] (names and values str or bin): the status and header fields;
//   - its later chunks are the body, as raw bytes, and its close ends the
//     response.
//
// A handler that answers within its calls gets its answer sent with a
// Content-Length. One that keeps its direction ([handlers.Sender.Keep]) to
// answer later, from another goroutine, gets it streamed: the head when its
// first chunk comes, each later chunk as a chunk of a chunked body, and
// the end of the body at its close.
//
// A handler that fails — an error instead of the head, a first chunk that
// is not [code, headers], no chunk at all — gets 502 Bad Gateway with the
// reason in the body, as a proxy answers for a broken worker; an error
// after a streamed head cuts the response (the connection closes without
// the end of the body), since its status is gone.
func StreamHTTP(event string, h handlers.StreamHandler) handlers.Handler {
	if h == nil {
		panic("rpc: StreamHTTP with a nil stream handler")
	}
	return &streamBridge{event: []byte(event), h: h}
}

type streamBridge struct {
	event []byte
	h     handlers.StreamHandler
}

// httpSender is the handler's direction of a bridged stream during the
// bridge's call: it collects what the handler sends into the Response, or
// hands it to the kept writer once the handler has kept the direction.
type httpSender struct {
	w       *handlers.Response
	conn    handlers.Conn
	closed  bool
	head    bool   // the first chunk was taken as [code, headers]
	failure string // why the answer is a 502
	chunk   []byte // the request chunk
	kept    *keptHTTP
}

var senderPool = sync.Pool{New: func() any { return new(httpSender) }}

func (b *streamBridge) ServeHTTP(w *handlers.Response, r *handlers.Request) {
	tx := senderPool.Get().(*httpSender)
	defer func() {
		chunk := tx.chunk[:0]
		if cap(chunk) > 64<<10 {
			chunk = nil
		}
		*tx = httpSender{chunk: chunk}
		senderPool.Put(tx)
	}()
	*tx = httpSender{w: w, conn: r.Conn, chunk: tx.chunk[:0]}
	if rx := b.h.OpenStream(tx, b.event); rx != nil {
		tx.chunk = appendRequestChunk(tx.chunk, r)
		rx.Chunk(tx, tx.chunk)
		rx.Close(tx)
	}
	if tx.kept != nil {
		return // answered by the kept writer: now, or later
	}
	tx.closed = true
	switch {
	case tx.failure != "":
	case !tx.head:
		tx.failure = "the stream ended without a response head"
	default:
		return
	}
	badGateway(w, tx.failure)
}

// badGateway makes w the 502 answer for a handler that failed.
func badGateway(w *handlers.Response, failure string) {
	w.Reset()
	w.SetStatus(502)
	w.SetContentType("text/plain; charset=utf-8")
	w.WriteString("502 Bad Gateway: ")
	w.WriteString(failure)
	w.WriteString("\n")
}

// appendRequestChunk encodes r as [method, uri, version, headers, body].
func appendRequestChunk(dst []byte, r *handlers.Request) []byte {
	dst = mpack.AppendArrayHeader(dst, 5)
	dst = mpack.AppendStrBytes(dst, r.Method)
	dst = mpack.AppendStrBytes(dst, r.Target)
	if r.ProtoMinor == 0 {
		dst = mpack.AppendStr(dst, "1.0")
	} else {
		dst = mpack.AppendStr(dst, "1.1")
	}
	dst = mpack.AppendArrayHeader(dst, uint32(len(r.Headers)))
	for _, h := range r.Headers {
		dst = mpack.AppendArrayHeader(dst, 2)
		dst = mpack.AppendStrBytes(dst, h.Name)
		dst = mpack.AppendStrBytes(dst, h.Value)
	}
	return mpack.AppendBin(dst, r.Body)
}

// headLimits bound the head chunk a handler sends.
var headLimits = mpack.Limits{MaxFrame: mpack.MaxFrameLimit}

func (tx *httpSender) Write(data []byte) {
	switch {
	case tx.closed:
	case tx.kept != nil:
		_ = tx.kept.Write(data)
	case tx.head:
		tx.w.Write(data)
	default:
		if err := setHead(tx.w, data); err != "" {
			tx.failure = "the first chunk is not [code, headers]: " + err
			tx.closed = true
			return
		}
		tx.head = true
	}
}

// setHead applies a [code, [[name, value], ...]] chunk to w.
func setHead(w *handlers.Response, data []byte) string {
	if n, err := mpack.Walk(data, headLimits); err != nil || n != len(data) {
		return "not one msgpack value"
	}
	n, b, err := mpack.ReadArrayHeader(data)
	if err != nil || n != 2 {
		return "not an array of two"
	}
	code, b, err := mpack.ReadInt(b)
	if err != nil || code < 100 || code > 599 {
		return "the status code is not an integer in 100–599"
	}
	w.SetStatus(int(code))
	nh, b, err := mpack.ReadArrayHeader(b)
	if err != nil {
		return "the headers are not an array"
	}
	for range nh {
		var pair int
		var name, value []byte
		if pair, b, err = mpack.ReadArrayHeader(b); err != nil || pair != 2 {
			return "a header is not a [name, value] pair"
		}
		if name, b, err = mpack.ReadStrOrBin(b); err != nil {
			return "a header name is not a string"
		}
		if value, b, err = mpack.ReadStrOrBin(b); err != nil {
			return "a header value is not a string"
		}
		w.Header(string(name), string(value))
	}
	return ""
}

func (tx *httpSender) Error(category, code int, msg string) {
	switch {
	case tx.closed:
	case tx.kept != nil:
		_ = tx.kept.Error(category, code, msg)
	default:
		tx.closed = true
		tx.failure = streamError(category, code, msg)
	}
}

func streamError(category, code int, msg string) string {
	return "the stream ended with error [" + strconv.Itoa(category) + ", " + strconv.Itoa(code) + "]: " + msg
}

func (tx *httpSender) Close() {
	switch {
	case tx.closed:
	case tx.kept != nil:
		_ = tx.kept.Close()
	default:
		tx.closed = true
	}
}

func (tx *httpSender) Closed() bool {
	if tx.kept != nil {
		return tx.kept.closed()
	}
	return tx.closed
}

func (tx *httpSender) Conn() handlers.Conn { return tx.conn }

// Keep hands the direction to a writer that answers the request later: a
// head already received is sent now, with the body so far, and the rest of
// the body follows chunk by chunk; else the whole answer waits for the
// head.
func (tx *httpSender) Keep() handlers.StreamWriter {
	if tx.kept != nil {
		return tx.kept
	}
	if tx.closed {
		return closedHTTP
	}
	k := &keptHTTP{d: tx.w.Defer()}
	if tx.head {
		// Stream gives nil only for an invalid status, which setHead
		// refuses: the head is out now.
		k.bw = tx.w.Stream()
	}
	tx.kept = k
	return k
}

// keptHTTP is a bridged stream's direction kept past the call: before the
// head it holds the request's deferred answer, after it the body's writer.
// The lock guards the move from one to the other; body writes happen
// outside it (the body's writer keeps them whole and in order), so that a
// writer waiting for the client does not hold up Close or Error.
type keptHTTP struct {
	d     handlers.Deferred // nil only for closedHTTP
	mu    sync.Mutex
	bw    handlers.BodyWriter
	ended bool
}

var closedHTTP = &keptHTTP{ended: true}

// closedDone is the Done of closedHTTP.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// body returns the body's writer once the head is out, or reports that
// the stream has ended.
func (k *keptHTTP) body() (handlers.BodyWriter, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended {
		return nil, handlers.ErrStreamClosed
	}
	return k.bw, nil
}

func (k *keptHTTP) Write(data []byte) error {
	bw, err := k.body()
	if err != nil {
		return err
	}
	if bw != nil {
		_, err := bw.Write(data)
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.ended:
		return handlers.ErrStreamClosed
	case k.bw != nil: // another writer sent the head meanwhile
		_, err := k.bw.Write(data)
		return err
	}
	r := new(handlers.Response)
	if why := setHead(r, data); why != "" {
		k.ended = true
		return k.fail("the first chunk is not [code, headers]: " + why)
	}
	bw, err = k.d.Stream(r)
	if err != nil {
		k.ended = true
		return err
	}
	k.bw = bw
	return nil
}

// end marks the direction ended and returns the body's writer, nil before
// the head; false when it had ended already.
func (k *keptHTTP) end() (handlers.BodyWriter, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended {
		return nil, false
	}
	k.ended = true
	return k.bw, true
}

func (k *keptHTTP) Error(category, code int, msg string) error {
	bw, ok := k.end()
	switch {
	case !ok:
		return handlers.ErrStreamClosed
	case bw == nil:
		k.fail(streamError(category, code, msg))
		return nil
	}
	return bw.Abort()
}

func (k *keptHTTP) Close() error {
	bw, ok := k.end()
	switch {
	case !ok:
		return handlers.ErrStreamClosed
	case bw == nil:
		k.fail("the stream ended without a response head")
		return nil
	}
	return bw.Close()
}

// fail answers 502 for a handler that failed before its head, once the
// caller has marked the stream ended. It returns ErrStreamClosed, what a
// Write gets then.
func (k *keptHTTP) fail(why string) error {
	w := new(handlers.Response)
	badGateway(w, why)
	_ = k.d.Respond(w)
	return handlers.ErrStreamClosed
}

func (k *keptHTTP) closed() bool {
	k.mu.Lock()
	ended := k.ended
	k.mu.Unlock()
	return ended || isDone(k.Done())
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Done is closed once the answer has been handed to the connection (the
// body's end included) or the connection has closed.
func (k *keptHTTP) Done() <-chan struct{} {
	if k.d == nil {
		return closedDone
	}
	return k.d.Done()
}
