package handlers

// Header is one header field as it was received. Name keeps the case the
// client sent; Value has leading and trailing whitespace removed.
type Header struct {
	Name, Value []byte
}

// MaxParams is the number of {name} segments a route pattern may have. A
// pattern ending in "/..." may have as many, plus its "..." rest.
const MaxParams = 8

type param struct {
	name  string
	value []byte
}

// Request is an HTTP request as its handler sees it.
//
// Every []byte field is a view into the connection's inbound buffer, filled
// in place by the codec: the bytes stop being valid when the handler
// returns. Copy whatever must outlive the call. A Request is reused for the
// next request on the same event loop; handlers must not retain it.
type Request struct {
	// Method is the request method, case-sensitive as RFC 9110 requires.
	Method []byte
	// Target is the request-target exactly as sent.
	Target []byte
	// Path is the path of Target, still percent-encoded; for the
	// absolute-form it is the part after the authority ("/" when empty).
	// Routing matches Path byte for byte.
	Path []byte
	// Query is the part of Target after '?', without it; nil when absent.
	Query []byte
	// Proto is the version token, "HTTP/1.1" or "HTTP/1.0".
	Proto []byte
	// ProtoMajor and ProtoMinor are the digits of Proto.
	ProtoMajor, ProtoMinor int
	// Host is the value of the Host header (or the authority of an
	// absolute-form target, which RFC 9112 §3.2.2 says takes precedence).
	Host []byte
	// Headers are the header fields in the order received.
	Headers []Header
	// Trailers are the trailer fields of a chunked body, if any.
	Trailers []Header
	// Body is the decoded body (chunked framing removed); empty when the
	// request has none.
	Body []byte
	// Close reports that the connection closes after this response, because
	// the client asked for it, the protocol version requires it, or the
	// engine is draining.
	Close bool
	// Conn is the connection the request arrived on.
	Conn Conn

	params  [MaxParams + 1]param // {name} values, then "..." for a prefix pattern
	nparams int
	allow   uint64 // set by Registry.Route on a miss: the methods the path allows
}

// Header returns the value of the first header field named name, compared
// without regard to ASCII case, or nil when there is none.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// Param returns the value of the route segment {name} that matched this
// request (still percent-encoded), or nil. For a pattern ending in "/...",
// Param("...") is the rest of the path after the prefix (possibly empty,
// never nil). Like every view of a Request, the value stops being valid when
// the handler returns.
func (r *Request) Param(name string) []byte {
	for i := 0; i < r.nparams; i++ {
		if r.params[i].name == name {
			return r.params[i].value
		}
	}
	return nil
}

// ResetParams forgets the route parameters. [Registry.Route] calls it
// before it matches; a codec that reuses a Request without routing it should
// call it too.
func (r *Request) ResetParams() { r.nparams = 0 }

func (r *Request) addParam(name string, value []byte) bool {
	if r.nparams == len(r.params) {
		return false
	}
	r.params[r.nparams] = param{name, value}
	r.nparams++
	return true
}

// EqualFold reports whether b equals s without regard to ASCII case. It does
// not allocate.
func EqualFold(b []byte, s string) bool { return equalFold(b, s) }

// equalFold is [EqualFold] for bytes or strings on either side.
func equalFold[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower[a[i]] != lower[b[i]] {
			return false
		}
	}
	return true
}

// lower maps every byte to its ASCII lower case.
var lower = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

// Size returns the bytes of r's views — the method, target, header and
// trailer fields, params and body — which is what [Request.Clone] copies
// (and what an offloaded request holds against the engine's input budget).
func (r *Request) Size() int {
	n := len(r.Method) + len(r.Target) + len(r.Path) + len(r.Query) + len(r.Proto) +
		len(r.Host) + len(r.Body)
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value)
	}
	for _, h := range r.Trailers {
		n += len(h.Name) + len(h.Value)
	}
	for i := 0; i < r.nparams; i++ {
		n += len(r.params[i].value)
	}
	return n
}

// Clone returns a deep copy of r whose views point into one buffer of its
// own, so that it stays valid after the handler call (codecs use it to hand
// a request to the offload pool). Conn is kept as is.
func (r *Request) Clone() *Request {
	buf := make([]byte, 0, r.Size())
	cp := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	fields := func(hs []Header) []Header {
		if hs == nil {
			return nil
		}
		out := make([]Header, len(hs))
		for i, h := range hs {
			out[i] = Header{cp(h.Name), cp(h.Value)}
		}
		return out
	}
	c := &Request{
		Method:     cp(r.Method),
		Target:     cp(r.Target),
		Path:       cp(r.Path),
		Query:      cp(r.Query),
		Proto:      cp(r.Proto),
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
		Host:       cp(r.Host),
		Headers:    fields(r.Headers),
		Trailers:   fields(r.Trailers),
		Body:       cp(r.Body),
		Close:      r.Close,
		Conn:       r.Conn,
		nparams:    r.nparams,
		allow:      r.allow,
	}
	for i := 0; i < r.nparams; i++ {
		c.params[i] = param{r.params[i].name, cp(r.params[i].value)}
	}
	return c
}
