package handlers

import (
	"fmt"
	"slices"
)

// Method is a unary RPC method: one call with a params array, one result
// or one error. A method registered once ([Registry.HandleRPC]) is reachable
// over every protocol that carries calls: MessagePack-RPC requests, a
// Cocaine channel (invoke, one chunk of params, choke) and HTTP
// (POST /rpc/{method}, see package bridge).
//
// ServeRPC runs on the connection's event loop and must not block, unless
// the method was wrapped with [BlockingMethod]: then it runs on the
// engine's offload pool. The call's views are valid only until it returns;
// so is w. A panic is recovered by the codec and answered with
// [CodeInternal].
type Method interface {
	ServeRPC(w *Reply, c *Call)
}

// MethodFunc adapts a function to [Method].
type MethodFunc func(w *Reply, c *Call)

// ServeRPC calls f(w, c).
func (f MethodFunc) ServeRPC(w *Reply, c *Call) { f(w, c) }

// Call is one call of a unary method as the method sees it.
//
// Method and Params are views: on the event loop, into the connection's
// inbound buffer; for a blocking method, into a copy the codec made. Either
// way they stop being valid when ServeRPC returns, and the Call is reused.
type Call struct {
	// Method is the name the caller used.
	Method []byte
	// Params is the call's parameters: one msgpack array, already walked
	// and bounded by the codec (see package codec/mpack), so its lengths
	// can be trusted. Read it with mpack.ReadArrayHeader and the other
	// readers; decode it with msgpack/v5 if need be.
	Params []byte
	// Conn is the connection the call came on. A blocking method, which
	// runs off the event loop, gets a copy taken when the call was handed
	// off: its addresses, loop, engine context and value stay readable
	// even if the connection closes meanwhile, and SetValue changes only
	// the copy.
	Conn Conn
}

// Reply collects the answer to one call: a result, which is one msgpack
// value, or an error.
//
// A Reply is owned by the codec and reused for the next call: it is valid
// only until the method returns. Its buffer keeps its capacity, so a
// method that answers the same shape every time allocates nothing.
type Reply struct {
	result []byte
	msg    []byte
	code   int
	failed bool
}

// Error codes that the codecs themselves answer with; a method may use them
// too, and any other positive code of its own. Over HTTP, CodeUnknownMethod
// is answered 404, CodeBadParams 400, CodeBusy 503, CodeTimeout 408 and
// every other code 500.
const (
	CodeUnknownMethod = 1 // no method or stream of that name
	CodeBadParams     = 2 // the params are not a msgpack array, or not what the method takes
	CodeBusy          = 3 // the offload pool is full, or the server holds too much input; try again later
	CodeInternal      = 4 // the method panicked or its result is not one msgpack value
	CodeProtocol      = 5 // the peer broke the protocol on this call (Cocaine: a message out of place)
	CodeTimeout       = 6 // the call's params did not arrive in time, nor at the minimum rate
)

// Result returns the result encoded so far, empty when none was set. It is
// meant for appending: w.SetResult(mpack.AppendStr(w.Result(), "pong")).
func (w *Reply) Result() []byte { return w.result }

// SetResult sets the result to b, which must hold exactly one msgpack
// value; a codec answers a result that does not with [CodeInternal]. When b
// is the Reply's own buffer grown in place (w.SetResult(appendX(w.Result(),
// ...))), it is adopted as is; any other slice is copied, so b may be a
// view of the call's params. No result at all is sent as msgpack nil.
func (w *Reply) SetResult(b []byte) {
	if cap(b) > 0 && cap(w.result) > 0 && &b[:1][0] == &w.result[:1][0] {
		w.result = b
		return
	}
	w.result = append(w.result[:0], b...)
}

// SetError makes the call fail with code and msg; the result, if any, is
// not sent. code should be positive (see the Code constants).
func (w *Reply) SetError(code int, msg string) {
	w.failed = true
	w.code = code
	w.msg = append(w.msg[:0], msg...)
}

// Errorf is SetError with a formatted message.
func (w *Reply) Errorf(code int, format string, args ...any) {
	w.failed = true
	w.code = code
	w.msg = fmt.Appendf(w.msg[:0], format, args...)
}

// Err reports whether the call failed, and with what. For codecs.
func (w *Reply) Err() (code int, msg []byte, failed bool) { return w.code, w.msg, w.failed }

// Reset empties the reply for the next call, keeping the capacity of its
// buffers. For codecs.
func (w *Reply) Reset() {
	w.result = w.result[:0]
	w.msg = w.msg[:0]
	w.code = 0
	w.failed = false
}

// maxKeptReply is the capacity above which [Reply.Shrink] lets a buffer go.
const maxKeptReply = 64 << 10

// Shrink drops buffers that grew past 64 KiB, so that one large answer does
// not stay pinned to a loop. For codecs, after the reply was sent.
func (w *Reply) Shrink() {
	if cap(w.result) > maxKeptReply {
		w.result = nil
	}
	if cap(w.msg) > maxKeptReply {
		w.msg = nil
	}
}

// blockingMethod marks a method that runs on the offload pool.
type blockingMethod struct{ Method }

// BlockingMethod marks m as blocking: codecs run it on the engine's bounded
// offload pool instead of the event loop, and send its result back to the
// connection when it is done. When the pool is full the call is answered
// with [CodeBusy] at once, never queued without bound.
func BlockingMethod(m Method) Method {
	if m == nil {
		panic("handlers: BlockingMethod(nil)")
	}
	return &blockingMethod{m}
}

// MethodBlocks reports whether m was marked with [BlockingMethod].
func MethodBlocks(m Method) bool {
	_, ok := m.(*blockingMethod)
	return ok
}

// HandleRPC registers m as the unary method name. Names are compared byte
// for byte. It panics on a nil method, an empty name, a name registered
// twice or a call after [Registry.Freeze].
func (r *Registry) HandleRPC(name string, m Method) {
	r.checkOpen()
	if m == nil {
		panic(fmt.Sprintf("handlers: nil method %q", name))
	}
	if f, ok := m.(MethodFunc); ok && f == nil {
		panic(fmt.Sprintf("handlers: nil method %q", name))
	}
	if name == "" {
		panic("handlers: empty method name")
	}
	if _, dup := r.rpc[name]; dup {
		panic(fmt.Sprintf("handlers: method %q registered twice", name))
	}
	r.rpc[name] = m
}

// HandleRPCFunc registers f as the unary method name, like
// [Registry.HandleRPC].
func (r *Registry) HandleRPCFunc(name string, f func(w *Reply, c *Call)) {
	if f == nil {
		panic(fmt.Sprintf("handlers: nil method %q", name))
	}
	r.HandleRPC(name, MethodFunc(f))
}

// Method returns the unary method registered as name, or nil. It does not
// allocate.
func (r *Registry) Method(name []byte) Method { return r.rpc[string(name)] }

// MethodNames returns the names of the unary methods, sorted.
func (r *Registry) MethodNames() []string { return sortedKeys(r.rpc) }

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (r *Registry) checkOpen() {
	if r.frozen {
		panic("handlers: registration after the engine started")
	}
}
