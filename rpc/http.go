package rpc

import (
	"strconv"
	"sync"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

// RegisterHTTP registers POST /rpc/{method}, which serves every unary
// method of reg over HTTP (see [HTTP]).
func RegisterHTTP(reg *handlers.Registry) {
	reg.Handle("POST", "/rpc/{method}", HTTP(reg))
}

// HTTP returns the handler that serves reg's unary methods over HTTP, for
// a route with a {method} parameter such as POST /rpc/{method}.
//
// The request body is the params array, as msgpack when the Content-Type
// is application/msgpack (or application/x-msgpack, application/vnd.msgpack)
// or as JSON when it is application/json; the answer comes in the same type:
//
//	200  the result                        (msgpack nil / JSON null when none)
//	4xx, 5xx  {"error": message, "code": N} (a map in msgpack)
//
// with the status 404 for an unknown method, 400 for a body that is not
// one array (or not valid JSON), 503 with Retry-After when the offload pool
// is full, 408 for a method that answers handlers.CodeTimeout, 415 for
// another Content-Type, and 500 for every other error (the method's own,
// an invalid result). A panic in the method is passed on
// to the codec, which logs it and answers as for any handler's panic. The
// {method} segment is percent-decoded.
//
// JSON params become msgpack before the method sees them: null, booleans
// and strings map to their kind, numbers to int (when integral and in the
// int64 range), uint (above it, up to 2^64-1) or float64, arrays and
// objects to arrays and maps, the keys in the order the body has them. A
// body is refused (400) when encoding/json would refuse it, when an object
// repeats a key, when arrays and objects nest deeper than 32, or when its
// msgpack would pass 16 MiB. A msgpack result becomes JSON the other way:
// bin as a base64 string, ext as {"type": N, "data": base64}, and map keys
// that are not strings as strings: a nil, bool or number as its JSON text
// ("1", "true"), an array, map, bin or ext as its JSON text escaped into
// the string, in which the keys of such kinds are left as their text, not
// escaped again. NaN and infinities, which JSON has no words for, answer
// 500, and so does a result whose JSON would pass 16 MiB.
//
// A method marked with [handlers.BlockingMethod] makes the handler
// blocking for its requests ([handlers.Blocker]): the HTTP codec runs it on
// the offload pool. So does a JSON body over 16 KiB, whose conversion
// would hold the event loop.
func HTTP(reg *handlers.Registry) handlers.Handler { return &bridge{reg: reg} }

type bridge struct{ reg *handlers.Registry }

// maxInlineJSON is the largest JSON body converted on the event loop:
// converting JSON costs far more than walking msgpack, so a larger one
// goes to the offload pool, where it stalls no other connection. The
// slowest kinds of BenchmarkJSONToMsgpack (objects of 9 keys, floats,
// nested empty arrays) take about 0.2 ms at 16 KiB, 0.8 ms at 64 KiB on a
// 2-core AMD EPYC (2026-12): 16 KiB keeps a loop's stall to a fraction of
// a millisecond.
const maxInlineJSON = 16 << 10

// Blocks implements handlers.Blocker: a request blocks when its method
// does, or when its params are a JSON body over maxInlineJSON.
func (b *bridge) Blocks(r *handlers.Request) bool {
	if len(r.Body) > maxInlineJSON && contentType(r.Header("Content-Type")) == typeJSON {
		return true
	}
	var buf [64]byte
	name, ok := methodName(buf[:0], r.Param("method"))
	if !ok {
		return false
	}
	m := b.reg.Method(name)
	return m != nil && handlers.MethodBlocks(m)
}

// scratch is one call's worth of buffers. The bridge runs on every loop
// and on the offload pool at once, so it is pooled.
type scratch struct {
	reply  handlers.Reply
	params []byte
	name   []byte // the method's name, for the Call: a view of the stack would escape
	call   handlers.Call
	json   jsonConverter
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// paramLimits bound JSON params converted to msgpack the way a msgpack
// frame is bounded.
var paramLimits = mpack.Limits{MaxFrame: mpack.MaxFrameLimit}

func (b *bridge) ServeHTTP(w *handlers.Response, r *handlers.Request) {
	ct := contentType(r.Header("Content-Type"))
	if ct == typeOther {
		w.SetStatus(415)
		w.Header("Accept-Post", "application/msgpack, application/json")
		w.SetContentType("text/plain; charset=utf-8")
		w.WriteString("415 Unsupported Media Type: send the params array as application/msgpack or application/json\n")
		return
	}
	var nameBuf [64]byte
	name, ok := methodName(nameBuf[:0], r.Param("method"))
	var m handlers.Method
	if ok {
		m = b.reg.Method(name)
	}
	if m == nil {
		failure(w, ct, handlers.CodeUnknownMethod, string(codec.AppendQuoted([]byte("unknown method "), name)))
		return
	}
	s := scratchPool.Get().(*scratch)
	defer func() {
		s.reply.Reset()
		s.reply.Shrink()
		s.call = handlers.Call{}
		if cap(s.params) > 64<<10 {
			s.params = nil
		}
		s.json.shrink()
		scratchPool.Put(s)
	}()
	params := r.Body
	// A JSON body this large runs on the offload pool (see Blocks), where
	// the client may leave meanwhile: then the work stops between its
	// steps, each tens of milliseconds for a body of megabytes.
	var gone func() bool
	if ct == typeJSON && len(r.Body) > maxInlineJSON && r.Conn != nil {
		ctx := r.Conn.Context()
		gone = func() bool { return ctx.Err() != nil }
	}
	if ct == typeJSON {
		var err error
		if s.params, err = s.json.appendMsgpack(s.params[:0], r.Body, maxJSONParams); err != nil {
			failure(w, ct, handlers.CodeBadParams, "params: "+err.Error())
			return
		}
		params = s.params
		if gone != nil && gone() {
			return // nobody to answer
		}
	}
	if n, err := mpack.Walk(params, paramLimits); err != nil || n != len(params) || mpack.NextType(params) != mpack.ArrayType {
		failure(w, ct, handlers.CodeBadParams, "params: the body is not one msgpack array")
		return
	}
	s.name = append(s.name[:0], name...)
	s.call = handlers.Call{Method: s.name, Params: params, Conn: r.Conn}
	if p := rpccall.Serve(m, &s.reply, &s.call); p != nil {
		// Panic again, for the codec to log, count and answer 500 as it
		// does for any handler.
		panic(p)
	}
	if code, msg, failed := s.reply.Err(); failed {
		failure(w, ct, code, string(msg))
		return
	}
	res := s.reply.Result()
	if len(res) == 0 {
		res = nilValue
	}
	if ct == typeMsgpack {
		w.SetContentType("application/msgpack")
		w.SetBody(res)
		return
	}
	if gone != nil && gone() {
		return
	}
	// About the JSON's size, so that a large result is not built by
	// growing the body step by step (five times its size in copies).
	w.Grow(min(len(res)+len(res)/2+64, maxJSONResult))
	out, err := appendJSONFromMsgpack(w.Body(), res, maxJSONResult)
	if err != nil {
		w.SetBody(nil)
		failure(w, ct, handlers.CodeInternal, "result: "+err.Error())
		return
	}
	w.SetContentType("application/json")
	w.SetBody(out)
}

var nilValue = []byte{0xc0}

// failure answers an error in the request's type.
func failure(w *handlers.Response, ct mediaType, code int, msg string) {
	status := 500
	switch code {
	case handlers.CodeUnknownMethod:
		status = 404
	case handlers.CodeBadParams:
		status = 400
	case handlers.CodeBusy:
		status = 503
		w.Header("Retry-After", "1")
	case handlers.CodeTimeout:
		status = 408
	}
	w.SetStatus(status)
	body := w.Body()[:0]
	if ct == typeMsgpack {
		w.SetContentType("application/msgpack")
		body = mpack.AppendMapHeader(body, 2)
		body = mpack.AppendStr(body, "error")
		body = mpack.AppendStr(body, msg)
		body = mpack.AppendStr(body, "code")
		body = mpack.AppendInt(body, int64(code))
	} else {
		w.SetContentType("application/json")
		body = append(body, `{"error":`...)
		body = handlers.AppendJSONString(body, []byte(msg))
		body = append(body, `,"code":`...)
		body = strconv.AppendInt(body, int64(code), 10)
		body = append(body, '}')
	}
	w.SetBody(body)
}

type mediaType uint8

const (
	typeOther mediaType = iota
	typeMsgpack
	typeJSON
)

// contentType classifies a Content-Type value by its media type, ignoring
// case, parameters and surrounding whitespace.
func contentType(v []byte) mediaType {
	for i, c := range v {
		if c == ';' {
			v = v[:i]
			break
		}
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	switch {
	case handlers.EqualFold(v, "application/json"):
		return typeJSON
	case handlers.EqualFold(v, "application/msgpack"), handlers.EqualFold(v, "application/x-msgpack"),
		handlers.EqualFold(v, "application/vnd.msgpack"):
		return typeMsgpack
	}
	return typeOther
}

// methodName percent-decodes a {method} segment, appending to dst only
// when there is something to decode. ok is false for a malformed escape.
func methodName(dst, seg []byte) (name []byte, ok bool) {
	i := 0
	for i < len(seg) && seg[i] != '%' {
		i++
	}
	if i == len(seg) {
		return seg, true
	}
	dst = append(dst, seg[:i]...)
	for ; i < len(seg); i++ {
		c := seg[i]
		if c == '%' {
			if i+2 >= len(seg) {
				return seg, false
			}
			hi, lo := unhex(seg[i+1]), unhex(seg[i+2])
			if hi < 0 || lo < 0 {
				return seg, false
			}
			c = byte(hi<<4 | lo)
			i += 2
		}
		dst = append(dst, c)
	}
	return dst, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
