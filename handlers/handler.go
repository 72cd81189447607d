package handlers

// Handler answers one HTTP request.
//
// ServeHTTP runs on the connection's event loop and must not block: every
// connection of that loop waits while it runs. The request's views are valid
// only until it returns (see [Request]); so is w. A panic is recovered by the
// codec, which answers 500 and closes that connection.
type Handler interface {
	ServeHTTP(w *Response, r *Request)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(w *Response, r *Request)

// ServeHTTP calls f(w, r).
func (f HandlerFunc) ServeHTTP(w *Response, r *Request) { f(w, r) }

// Blocker is implemented by a [Handler] that may block. Before calling a
// handler, a codec asks Blocks(r) of the handlers that implement it; when
// it reports true, the handler runs on the engine's bounded offload pool,
// with a copy of the request, instead of on the event loop, and its
// response is sent when it is done, still in request order. Blocks itself
// runs on the event loop and must be cheap.
type Blocker interface {
	Blocks(r *Request) bool
}

// blocking marks a handler that always runs on the offload pool.
type blocking struct{ Handler }

func (blocking) Blocks(*Request) bool { return true }

// Blocking marks h as blocking (see [Blocker]): it runs on the offload
// pool, and when the pool is full the request is answered 503 at once,
// never queued without bound. A blocking handler sees a copy of the
// request, valid until it returns, whose Conn is a copy too (see
// [Call.Conn]).
func Blocking(h Handler) Handler {
	if h == nil {
		panic("handlers: Blocking(nil)")
	}
	return blocking{h}
}

// Blocks reports whether h, routed for r, runs on the offload pool.
func Blocks(h Handler, r *Request) bool {
	b, ok := h.(Blocker)
	return ok && b.Blocks(r)
}
