package handlers

import (
	"fmt"
	"slices"
	"strings"
)

// Registry routes HTTP requests to handlers by method and path pattern, in
// the manner of net/http's ServeMux.
//
// A pattern is a path that starts with '/' and is made of segments
// separated by '/'. A segment is either static, matched byte for byte, or a
// parameter "{name}" that matches one whole non-empty segment:
//
//	/plaintext              the path "/plaintext" and nothing else
//	/users/{id}             "/users/42", not "/users/" nor "/users/42/x"
//	/users/{id}/posts/{p}   two parameters, read with [Request.Param]
//	/static/...             "/static/" and every path below it
//	/...                    every path
//
// A pattern that ends in "/..." is a prefix: it matches every path that
// starts with the pattern up to and including that '/', and
// Param("...") is the rest of the path. It may contain parameters too. The
// name "..." is reserved; parameter names are made of ASCII letters, digits
// and '_', and at most [MaxParams] may appear in one pattern.
//
// Matching is literal: [Registry.Route] compares [Request.Path] byte for
// byte, with no percent-decoding, no cleaning of "//", "." or ".." and no
// redirect between "/a" and "/a/", which are different paths. Methods are
// compared case-sensitively. When several patterns match a path, the most
// specific one that accepts the method wins:
//
//  1. a pattern without parameters or "/..." that equals the path;
//  2. a parameter pattern, compared segment by segment from the left, where
//     a static segment beats a parameter;
//  3. the longest "/..." prefix (ties broken as in 2).
//
// A pattern accepts the methods it was registered with; a handler
// registered with the method "" or "*" accepts every method. A HEAD request
// that no HEAD handler accepts goes to the GET handler (the codec sends no
// body). When patterns match the path but none accepts the method, OPTIONS
// is answered 204 with an Allow header and every other method 405 with the
// same header and the body "Method Not Allowed\n". Allow lists, in byte
// order and separated by ", ", the methods of every pattern that matches
// the path, HEAD where there is GET, and OPTIONS, which the registry
// answers. When no pattern matches, the answer is 404 "Not Found\n". The
// asterisk target is answered 204 with no body for OPTIONS ("OPTIONS *")
// and 400 for any other method. Bodies of these answers are text/plain;
// charset=utf-8.
//
// Registration is not safe for concurrent use and must be done before the
// engine starts, which calls [Registry.Freeze]. From then on the registry is
// read-only, so any number of event loops may call Route at once without a
// lock.
type Registry struct {
	frozen bool
	exact  map[string]*route // patterns without parameters or "/..."
	tree   node              // the other patterns
	shapes map[string]*route // every pattern by its shape, parameter names erased

	// Every method named at registration, sorted, each with its bit in
	// route.allow and Request.allow.
	methods []methodBit

	notAllowed, options Handler // bound to this registry, for the Allow header

	rpc            map[string]Method        // unary methods by name
	streams        map[string]StreamHandler // stream handlers by event
	streamFallback StreamHandler            // the "*" stream handler
}

// route is one pattern and its handlers.
type route struct {
	pattern string
	params  []string // {name} segments in order
	isParam []bool   // for each segment before "/...", whether it is a {name}
	prefix  bool     // the pattern ends in "/..."
	any     Handler  // registered with method "" or "*"
	get     Handler  // the GET handler, also HEAD's fallback
	methods []methodHandler
	allow   uint64 // bits of the methods it accepts, with HEAD and OPTIONS
}

type methodHandler struct {
	method string
	h      Handler
}

type methodBit struct {
	method string
	bit    uint64
}

// node is a step of the pattern tree: one segment below its parent.
type node struct {
	edges  []edge           // static children
	index  map[string]*node // the same, once there are more than maxEdges
	param  *node
	full   *route // a pattern that ends at this node
	prefix *route // a pattern that ends at this node followed by "/..."
}

type edge struct {
	seg  string
	next *node
}

// maxEdges is the number of static children up to which a linear search
// beats hashing the segment.
const maxEdges = 8

// child returns the static child for seg, or nil.
func (n *node) child(seg []byte) *node {
	if n.index != nil {
		return n.index[string(seg)]
	}
	for i := range n.edges {
		if n.edges[i].seg == string(seg) {
			return n.edges[i].next
		}
	}
	return nil
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{
		exact:   make(map[string]*route),
		shapes:  make(map[string]*route),
		rpc:     make(map[string]Method),
		streams: make(map[string]StreamHandler),
	}
	r.notAllowed = &allowHandler{reg: r, status: 405}
	r.options = &allowHandler{reg: r, status: 204}
	return r
}

// HandleFunc registers f for method and pattern, like [Registry.Handle].
func (r *Registry) HandleFunc(method, pattern string, f func(w *Response, req *Request)) {
	if f == nil {
		panic(fmt.Sprintf("handlers: nil handler for %s", describe(method, pattern)))
	}
	r.Handle(method, pattern, HandlerFunc(f))
}

// Handle registers h for requests with the given method whose path matches
// pattern (see [Registry] for the syntax). The method "" or "*" means every
// method.
//
// Handle panics on a programmer error: a nil handler, a method that is not
// an RFC 9110 token, a malformed pattern, a method and pattern registered
// twice, a pattern that differs from an earlier one only in its parameter
// names, more than [MaxParams] parameters, more than 64 distinct methods in
// the registry, or a call after [Registry.Freeze].
func (r *Registry) Handle(method, pattern string, h Handler) {
	r.checkOpen()
	if h == nil {
		panic(fmt.Sprintf("handlers: nil handler for %s", describe(method, pattern)))
	}
	if f, ok := h.(HandlerFunc); ok && f == nil {
		panic(fmt.Sprintf("handlers: nil handler for %s", describe(method, pattern)))
	}
	anyMethod := method == "" || method == "*"
	if !anyMethod && !validName(method) {
		panic(fmt.Sprintf("handlers: invalid method %q for pattern %q: a method is a token", method, pattern))
	}
	p, err := parsePattern(pattern)
	if err != "" {
		panic(fmt.Sprintf("handlers: invalid pattern %q: %s", pattern, err))
	}

	rt := r.shapes[p.shape]
	if rt != nil && !slices.Equal(rt.params, p.params) {
		panic(fmt.Sprintf("handlers: pattern %q conflicts with %q: they differ only in parameter names", pattern, rt.pattern))
	}
	if (anyMethod && rt != nil && rt.any != nil) || (!anyMethod && rt.handler(method) != nil) {
		panic(fmt.Sprintf("handlers: %s registered twice", describe(method, pattern)))
	}
	// Every check passed: from here on nothing panics but the method count.
	if !anyMethod {
		r.intern(method)
		if method == "GET" {
			r.intern("HEAD")
		}
	}
	r.intern("OPTIONS")
	if rt == nil {
		rt = &route{pattern: pattern, params: p.params, prefix: p.prefix}
		if len(p.params) > 0 {
			for _, seg := range p.segs {
				rt.isParam = append(rt.isParam, seg.param)
			}
		}
		r.shapes[p.shape] = rt
		r.insert(rt, p)
	}
	switch {
	case anyMethod:
		rt.any = h
	default:
		rt.methods = append(rt.methods, methodHandler{method, h})
		if method == "GET" {
			rt.get = h
		}
	}
	rt.allow = r.bit("OPTIONS")
	for _, m := range rt.methods {
		rt.allow |= r.bit(m.method)
	}
	if rt.get != nil {
		rt.allow |= r.bit("HEAD")
	}
}

// Freeze makes the registry read-only: a later [Registry.Handle] panics with
// "handlers: registration after the engine started". The engine calls it
// when it starts; calling it again does nothing.
func (r *Registry) Freeze() { r.frozen = true }

// handler returns the handler registered for exactly method, or nil.
func (rt *route) handler(method string) Handler {
	if rt == nil {
		return nil
	}
	for i := range rt.methods {
		if rt.methods[i].method == method {
			return rt.methods[i].h
		}
	}
	return nil
}

// insert adds a new route to the exact map or to the tree.
func (r *Registry) insert(rt *route, p pattern) {
	if !p.prefix && len(p.params) == 0 {
		r.exact[rt.pattern] = rt
		return
	}
	n := &r.tree
	for _, seg := range p.segs {
		if seg.param {
			if n.param == nil {
				n.param = new(node)
			}
			n = n.param
			continue
		}
		c := n.child([]byte(seg.text))
		if c == nil {
			c = new(node)
			n.edges = append(n.edges, edge{seg.text, c})
			if len(n.edges) > maxEdges {
				n.index = make(map[string]*node, len(n.edges))
				for _, e := range n.edges {
					n.index[e.seg] = e.next
				}
			}
		}
		n = c
	}
	if p.prefix {
		n.prefix = rt
	} else {
		n.full = rt
	}
}

// intern gives method a bit if it has none yet.
func (r *Registry) intern(method string) {
	if r.bit(method) != 0 {
		return
	}
	if len(r.methods) == 64 {
		panic(fmt.Sprintf("handlers: more than 64 distinct methods (adding %q)", method))
	}
	mb := methodBit{method, 1 << len(r.methods)}
	i, _ := slices.BinarySearchFunc(r.methods, method, func(m methodBit, s string) int {
		return strings.Compare(m.method, s)
	})
	r.methods = slices.Insert(r.methods, i, mb)
}

func (r *Registry) bit(method string) uint64 {
	for _, m := range r.methods {
		if m.method == method {
			return m.bit
		}
	}
	return 0
}

// pattern is a parsed route pattern.
type pattern struct {
	segs   []segment
	params []string
	prefix bool
	shape  string // the pattern with every {name} written "{}"
}

type segment struct {
	text  string // a static segment; empty for a parameter
	param bool
}

// parsePattern parses s, or returns what is wrong with it.
func parsePattern(s string) (p pattern, err string) {
	if s == "" {
		return p, "empty pattern"
	}
	if s[0] != '/' {
		return p, "a pattern starts with '/'"
	}
	body := s
	if strings.HasSuffix(s, "/...") {
		p.prefix = true
		body = s[:len(s)-len("/...")]
	}
	var shape strings.Builder
	// body is "" (for "/...") or starts with '/'; every '/' starts a segment.
	for i := 0; i < len(body); {
		j := strings.IndexByte(body[i+1:], '/')
		if j < 0 {
			j = len(body)
		} else {
			j += i + 1
		}
		seg := body[i+1 : j]
		i = j
		shape.WriteByte('/')
		if strings.HasPrefix(seg, "{") || strings.HasSuffix(seg, "}") {
			if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
				return p, fmt.Sprintf("segment %q: a parameter is a whole segment, {name}", seg)
			}
			name := seg[1 : len(seg)-1]
			if !validParamName(name) {
				return p, fmt.Sprintf("segment %q: a parameter name is made of ASCII letters, digits and '_'", seg)
			}
			if slices.Contains(p.params, name) {
				return p, fmt.Sprintf("parameter {%s} appears twice", name)
			}
			if len(p.params) == MaxParams {
				return p, fmt.Sprintf("more than %d parameters", MaxParams)
			}
			p.params = append(p.params, name)
			p.segs = append(p.segs, segment{param: true})
			shape.WriteString("{}")
			continue
		}
		if seg == "..." {
			return p, `"..." may only end a pattern, after a '/'`
		}
		if e := checkStatic(seg); e != "" {
			return p, e
		}
		p.segs = append(p.segs, segment{text: seg})
		shape.WriteString(seg)
	}
	if !p.prefix && strings.HasSuffix(s, "...") {
		return p, `a prefix pattern ends in "/..."`
	}
	if p.prefix {
		shape.WriteString("/...")
	}
	p.shape = shape.String()
	return p, ""
}

// checkStatic reports what in a static segment cannot appear in a request
// path (RFC 3986 pchar), so that the pattern could never match.
func checkStatic(seg string) string {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '%':
			if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
				return fmt.Sprintf("segment %q: '%%' must start a %%XX escape", seg)
			}
		case !pathChar[c]:
			return fmt.Sprintf("segment %q: byte %q cannot appear in a request path", seg, c)
		}
	}
	return ""
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// pathChar holds the bytes of RFC 3986 pchar other than '%': unreserved,
// sub-delims, ':' and '@'.
var pathChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@" {
		t[c] = true
	}
	return t
}()

func describe(method, pattern string) string {
	if method == "" || method == "*" {
		return fmt.Sprintf("any method %q", pattern)
	}
	return fmt.Sprintf("%s %q", method, pattern)
}
