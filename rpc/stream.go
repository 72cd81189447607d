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
// The stream runs within the handler call, on the event loop, so the
// whole answer is known when it ends: it is sent with a Content-Length.
// A handler that fails — an error instead of the head, a first chunk that
// is not [code, headers], no chunk at all, or an error after the head —
// gets 502 Bad Gateway with the reason in the body, as a proxy answers for
// a broken worker.
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

// httpSender is the handler's direction of a bridged stream: it collects
// what the handler sends into the Response.
type httpSender struct {
	w       *handlers.Response
	conn    handlers.Conn
	closed  bool
	head    bool   // the first chunk was taken as [code, headers]
	failure string // why the answer is a 502
	chunk   []byte // the request chunk
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
	tx.closed = true
	switch {
	case tx.failure != "":
	case !tx.head:
		tx.failure = "the stream ended without a response head"
	default:
		return
	}
	w.Reset()
	w.SetStatus(502)
	w.SetContentType("text/plain; charset=utf-8")
	w.WriteString("502 Bad Gateway: ")
	w.WriteString(tx.failure)
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
	if tx.closed {
		return
	}
	if tx.head {
		tx.w.Write(data)
		return
	}
	if err := tx.setHead(data); err != "" {
		tx.failure = "the first chunk is not [code, headers]: " + err
		tx.closed = true
		return
	}
	tx.head = true
}

// setHead applies a [code, [[name, value], ...]] chunk to the response.
func (tx *httpSender) setHead(data []byte) string {
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
	tx.w.SetStatus(int(code))
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
		tx.w.Header(string(name), string(value))
	}
	return ""
}

func (tx *httpSender) Error(category, code int, msg string) {
	if tx.closed {
		return
	}
	tx.closed = true
	tx.failure = "the stream ended with error [" + strconv.Itoa(category) + ", " + strconv.Itoa(code) + "]: " + msg
}

func (tx *httpSender) Close()              { tx.closed = true }
func (tx *httpSender) Closed() bool        { return tx.closed }
func (tx *httpSender) Conn() handlers.Conn { return tx.conn }
