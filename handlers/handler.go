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
