package handlers

// Route returns the handler for req, never nil, and stores the values of
// the pattern's parameters in req for [Request.Param] (forgetting earlier
// ones). It reads req.Method and req.Path only, and allocates nothing.
//
// On a miss it returns a handler that answers 404, 405 or 204 (see
// [Registry]); the 405 and 204 handlers read the Allow set that Route left
// in req, so they must be served the same req. Once the registry is
// frozen, any number of goroutines may call Route at the same time.
func (r *Registry) Route(req *Request) Handler {
	req.ResetParams()
	req.allow = 0
	path := req.Path
	if len(path) == 0 || path[0] != '/' {
		return r.notPath(req)
	}
	return r.route(req, r.exact[string(path)])
}

// RouteCache remembers the exact pattern (one without parameters) that
// the last path routed through it matched, so that a run of requests for
// the same path costs a comparison instead of a map lookup. The zero
// RouteCache is empty. It belongs to one goroutine (a codec keeps one per
// event loop) and to one frozen registry.
type RouteCache struct {
	path []byte // a copy of the path
	rt   *route
}

// RouteCached is [Registry.Route] through c, which it may update.
func (r *Registry) RouteCached(req *Request, c *RouteCache) Handler {
	req.ResetParams()
	req.allow = 0
	path := req.Path
	if c.rt != nil && string(path) == string(c.path) {
		return r.route(req, c.rt)
	}
	if len(path) == 0 || path[0] != '/' {
		return r.notPath(req)
	}
	rt := r.exact[string(path)]
	if rt != nil && len(path) <= maxCachedPath {
		c.path, c.rt = append(c.path[:0], path...), rt
	}
	return r.route(req, rt)
}

// maxCachedPath bounds the copy a RouteCache keeps.
const maxCachedPath = 256

// notPath routes a target that is not a path: "*" or nothing.
func (r *Registry) notPath(req *Request) Handler {
	if string(req.Path) == "*" {
		if string(req.Method) == "OPTIONS" {
			return asteriskOptions
		}
		return badRequest
	}
	return notFound
}

// route finishes Route for a path that starts with '/', given its exact
// pattern, if any.
func (r *Registry) route(req *Request, rt *route) Handler {
	path := req.Path
	var allow uint64
	if rt != nil {
		if h := rt.serve(req.Method); h != nil {
			return h
		}
		allow = rt.allow
	}

	m := match{path: path, method: req.Method, allow: allow}
	if h, rt := m.walk(&r.tree, 0); h != nil {
		rt.bind(req, path)
		return h
	}
	if m.ph != nil {
		m.prt.bind(req, path)
		req.addParam("...", path[m.prest:])
		return m.ph
	}
	if m.allow == 0 {
		return notFound
	}
	req.allow = m.allow
	if string(req.Method) == "OPTIONS" {
		return r.options
	}
	return r.notAllowed
}

// bind adds the values of rt's parameters in path to req: the path
// segment at the position of each {name}. path is known to match rt.
func (rt *route) bind(req *Request, path []byte) {
	pos, j := 0, 0
	for _, param := range rt.isParam {
		start := pos + 1
		end := segmentEnd(path, start)
		if param {
			req.addParam(rt.params[j], path[start:end])
			j++
		}
		pos = end
	}
}

// segmentEnd returns the index of the first '/' in path from start on, or
// len(path). Segments are short: a plain loop beats bytes.IndexByte's call.
func segmentEnd(path []byte, start int) int {
	for i := start; i < len(path); i++ {
		if path[i] == '/' {
			return i
		}
	}
	return len(path)
}

// serve returns the handler of rt that accepts method, or nil.
func (rt *route) serve(method []byte) Handler {
	for i := range rt.methods {
		if rt.methods[i].method == string(method) {
			return rt.methods[i].h
		}
	}
	if rt.get != nil && string(method) == "HEAD" {
		return rt.get
	}
	return rt.any
}

// match is the state of one walk of the pattern tree. It lives on Route's
// stack.
type match struct {
	path, method []byte
	allow        uint64 // methods of the patterns that matched the path only

	// The longest prefix pattern so far that accepts the method.
	ph    Handler
	prt   *route
	prest int // where its rest starts in path
}

// walk looks below n, which has consumed path[:pos], for the first pattern
// that matches the whole path and accepts the method, static segments
// before parameters, and notes prefix patterns on the way. The path either
// ends at pos or has a '/' there.
func (m *match) walk(n *node, pos int) (Handler, *route) {
	if pos == len(m.path) {
		if rt := n.full; rt != nil {
			if h := rt.serve(m.method); h != nil {
				return h, rt
			}
			m.allow |= rt.allow
		}
		return nil, nil
	}
	start := pos + 1
	if rt := n.prefix; rt != nil {
		if h := rt.serve(m.method); h == nil {
			m.allow |= rt.allow
		} else if m.ph == nil || start > m.prest {
			m.ph, m.prt, m.prest = h, rt, start
		}
	}
	end := segmentEnd(m.path, start)
	seg := m.path[start:end]
	if c := n.child(seg); c != nil {
		if h, rt := m.walk(c, end); h != nil {
			return h, rt
		}
	}
	if c := n.param; c != nil && len(seg) > 0 {
		if h, rt := m.walk(c, end); h != nil {
			return h, rt
		}
	}
	return nil, nil
}

// The answers to requests that no pattern serves. They are package values,
// so that returning them allocates nothing.
var (
	notFound        Handler = &statusHandler{404, "Not Found\n"}
	badRequest      Handler = &statusHandler{400, "Bad Request\n"}
	asteriskOptions Handler = &statusHandler{204, ""}
)

// statusHandler answers with a fixed status and plain-text body.
type statusHandler struct {
	status int
	body   string
}

func (h *statusHandler) ServeHTTP(w *Response, _ *Request) {
	w.SetStatus(h.status)
	if h.body != "" {
		w.addLine("Content-Type: text/plain; charset=utf-8\r\n")
		w.WriteString(h.body)
	}
}

// allowHandler answers 405 or 204 with the Allow header of the methods that
// Route found for the path (req.allow), in byte order, comma-separated.
type allowHandler struct {
	reg    *Registry
	status int
}

func (h *allowHandler) ServeHTTP(w *Response, req *Request) {
	w.SetStatus(h.status)
	w.header = append(w.header, "Allow: "...)
	first := true
	for _, m := range h.reg.methods {
		if req.allow&m.bit == 0 {
			continue
		}
		if !first {
			w.header = append(w.header, ", "...)
		}
		first = false
		w.header = append(w.header, m.method...)
	}
	w.header = append(w.header, "\r\n"...)
	if h.status == 405 {
		w.addLine("Content-Type: text/plain; charset=utf-8\r\n")
		w.WriteString("Method Not Allowed\n")
	}
}
