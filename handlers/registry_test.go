package handlers

import (
	"fmt"
	"strings"
	"testing"
)

// newRequest builds the Request a codec would hand over for method and
// target, with header fields given as name, value pairs.
func newRequest(method, target string, header ...string) *Request {
	r := &Request{
		Method:     []byte(method),
		Target:     []byte(target),
		Path:       []byte(target),
		Proto:      []byte("HTTP/1.1"),
		ProtoMajor: 1,
		ProtoMinor: 1,
	}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		r.Path = r.Target[:i]
		r.Query = r.Target[i+1:]
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Headers = append(r.Headers, Header{[]byte(header[i]), []byte(header[i+1])})
		if EqualFold([]byte(header[i]), "host") {
			r.Host = []byte(header[i+1])
		}
	}
	return r
}

// serve routes req through reg and returns what the handler answered.
func serve(reg *Registry, req *Request) *Response {
	w := new(Response)
	reg.Route(req).ServeHTTP(w, req)
	return w
}

// tagged returns a handler that answers its tag followed by the request's
// parameters, so that a test sees which pattern matched and what it bound.
func tagged(tag string) Handler {
	return HandlerFunc(func(w *Response, r *Request) {
		w.WriteString(tag)
		for i := 0; i < r.nparams; i++ {
			fmt.Fprintf(w, " %s=%s", r.params[i].name, r.params[i].value)
		}
	})
}

type reg struct{ method, pattern string }

func TestRoute(t *testing.T) {
	tests := []struct {
		name     string
		routes   []reg
		method   string
		target   string
		status   int
		body     string // the tag of the handler and its parameters, or the miss body
		allow    string // the Allow header, if any
		noHeader bool   // no header line at all
	}{
		{name: "exact", routes: []reg{{"GET", "/a/b"}}, method: "GET", target: "/a/b", status: 200, body: "GET /a/b"},
		{name: "exact root", routes: []reg{{"GET", "/"}, {"GET", "/a"}}, method: "GET", target: "/", status: 200, body: "GET /"},
		{name: "exact ignores query", routes: []reg{{"GET", "/a"}}, method: "GET", target: "/a?b=/c", status: 200, body: "GET /a"},
		{name: "trailing slash is another path", routes: []reg{{"GET", "/a"}}, method: "GET", target: "/a/", status: 404, body: "Not Found\n"},
		{name: "no slash added", routes: []reg{{"GET", "/a/"}}, method: "GET", target: "/a", status: 404, body: "Not Found\n"},
		{name: "no cleaning", routes: []reg{{"GET", "/a/b"}}, method: "GET", target: "/a/./b", status: 404, body: "Not Found\n"},
		{name: "double slash is literal", routes: []reg{{"GET", "/a//b"}}, method: "GET", target: "/a//b", status: 200, body: "GET /a//b"},
		{name: "no decoding", routes: []reg{{"GET", "/a%2Fb"}}, method: "GET", target: "/a/b", status: 404, body: "Not Found\n"},
		{name: "encoded pattern", routes: []reg{{"GET", "/a%2Fb"}}, method: "GET", target: "/a%2Fb", status: 200, body: "GET /a%2Fb"},
		{name: "param", routes: []reg{{"GET", "/users/{id}"}}, method: "GET", target: "/users/42", status: 200, body: "GET /users/{id} id=42"},
		{name: "two params", routes: []reg{{"GET", "/users/{id}/posts/{post}"}}, method: "GET", target: "/users/7/posts/x-1", status: 200, body: "GET /users/{id}/posts/{post} id=7 post=x-1"},
		{name: "param still encoded", routes: []reg{{"GET", "/users/{id}"}}, method: "GET", target: "/users/a%20b", status: 200, body: "GET /users/{id} id=a%20b"},
		{name: "param not empty", routes: []reg{{"GET", "/users/{id}"}}, method: "GET", target: "/users/", status: 404, body: "Not Found\n"},
		{name: "param one segment", routes: []reg{{"GET", "/users/{id}"}}, method: "GET", target: "/users/4/2", status: 404, body: "Not Found\n"},
		{name: "param then slash", routes: []reg{{"GET", "/{x}/"}}, method: "GET", target: "/v/", status: 200, body: "GET /{x}/ x=v"},
		{name: "max params", routes: []reg{{"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"}}, method: "GET", target: "/1/2/3/4/5/6/7/8", status: 200,
			body: "GET /{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h} a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8"},
		{name: "prefix itself", routes: []reg{{"GET", "/static/..."}}, method: "GET", target: "/static/", status: 200, body: "GET /static/... ...="},
		{name: "prefix below", routes: []reg{{"GET", "/static/..."}}, method: "GET", target: "/static/css/a.css", status: 200, body: "GET /static/... ...=css/a.css"},
		{name: "prefix without slash", routes: []reg{{"GET", "/static/..."}}, method: "GET", target: "/static", status: 404, body: "Not Found\n"},
		{name: "prefix other", routes: []reg{{"GET", "/static/..."}}, method: "GET", target: "/staticx/a", status: 404, body: "Not Found\n"},
		{name: "root prefix", routes: []reg{{"GET", "/..."}}, method: "GET", target: "/", status: 200, body: "GET /... ...="},
		{name: "root prefix deep", routes: []reg{{"GET", "/..."}}, method: "GET", target: "/x/y/", status: 200, body: "GET /... ...=x/y/"},
		{name: "prefix with param", routes: []reg{{"GET", "/u/{id}/files/..."}}, method: "GET", target: "/u/9/files/a/b", status: 200, body: "GET /u/{id}/files/... id=9 ...=a/b"},
		{name: "max params and prefix", routes: []reg{{"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/..."}}, method: "GET", target: "/1/2/3/4/5/6/7/8/9", status: 200,
			body: "GET /{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/... a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 ...=9"},

		{name: "exact beats param", routes: []reg{{"GET", "/users/{id}"}, {"GET", "/users/new"}}, method: "GET", target: "/users/new", status: 200, body: "GET /users/new"},
		{name: "param when exact differs", routes: []reg{{"GET", "/users/{id}"}, {"GET", "/users/new"}}, method: "GET", target: "/users/old", status: 200, body: "GET /users/{id} id=old"},
		{name: "static segment beats param", routes: []reg{{"GET", "/{y}/b/c"}, {"GET", "/a/{x}/c"}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /a/{x}/c x=b"},
		{name: "leftmost segment decides", routes: []reg{{"GET", "/{y}/b/c"}, {"GET", "/a/{x}/{z}"}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /a/{x}/{z} x=b z=c"},
		{name: "backtrack to param", routes: []reg{{"GET", "/a/{x}/d"}, {"GET", "/{y}/b/c"}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /{y}/b/c y=a"},
		{name: "param beats prefix", routes: []reg{{"GET", "/static/..."}, {"GET", "/static/{f}"}}, method: "GET", target: "/static/x", status: 200, body: "GET /static/{f} f=x"},
		{name: "exact beats prefix", routes: []reg{{"GET", "/static/..."}, {"GET", "/static/"}}, method: "GET", target: "/static/", status: 200, body: "GET /static/"},
		{name: "longest prefix", routes: []reg{{"GET", "/..."}, {"GET", "/a/b/..."}, {"GET", "/a/..."}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /a/b/... ...=c"},
		{name: "shorter prefix", routes: []reg{{"GET", "/..."}, {"GET", "/a/b/..."}, {"GET", "/a/..."}}, method: "GET", target: "/a/c/d", status: 200, body: "GET /a/... ...=c/d"},
		{name: "longest prefix through param", routes: []reg{{"GET", "/a/..."}, {"GET", "/{x}/b/..."}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /{x}/b/... x=a ...=c"},
		{name: "equal prefixes static first", routes: []reg{{"GET", "/{x}/b/..."}, {"GET", "/a/{y}/..."}}, method: "GET", target: "/a/b/c", status: 200, body: "GET /a/{y}/... y=b ...=c"},

		{name: "any method empty", routes: []reg{{"", "/a"}}, method: "PATCH", target: "/a", status: 200, body: " /a"},
		{name: "any method star", routes: []reg{{"*", "/a"}}, method: "BREW", target: "/a", status: 200, body: "* /a"},
		{name: "method beats any", routes: []reg{{"*", "/a"}, {"GET", "/a"}}, method: "GET", target: "/a", status: 200, body: "GET /a"},
		{name: "any for other methods", routes: []reg{{"*", "/a"}, {"GET", "/a"}}, method: "POST", target: "/a", status: 200, body: "* /a"},
		{name: "method falls to less specific pattern", routes: []reg{{"GET", "/users/me"}, {"DELETE", "/users/{id}"}}, method: "DELETE", target: "/users/me", status: 200, body: "DELETE /users/{id} id=me"},
		{name: "method falls to prefix", routes: []reg{{"GET", "/a"}, {"", "/..."}}, method: "POST", target: "/a", status: 200, body: " /... ...=a"},
		{name: "method falls to shorter prefix", routes: []reg{{"GET", "/a/..."}, {"POST", "/..."}}, method: "POST", target: "/a/b", status: 200, body: "POST /... ...=a/b"},
		{name: "method case-sensitive", routes: []reg{{"GET", "/a"}}, method: "get", target: "/a", status: 405, body: "Method Not Allowed\n", allow: "GET, HEAD, OPTIONS"},
		{name: "custom method", routes: []reg{{"BREW", "/pot"}}, method: "BREW", target: "/pot", status: 200, body: "BREW /pot"},

		{name: "HEAD falls back to GET", routes: []reg{{"GET", "/a"}}, method: "HEAD", target: "/a", status: 200, body: "GET /a"},
		{name: "HEAD route wins", routes: []reg{{"GET", "/a"}, {"HEAD", "/a"}}, method: "HEAD", target: "/a", status: 200, body: "HEAD /a"},
		{name: "HEAD prefers GET to any", routes: []reg{{"", "/a"}, {"GET", "/a"}}, method: "HEAD", target: "/a", status: 200, body: "GET /a"},
		{name: "HEAD on param GET", routes: []reg{{"GET", "/u/{id}"}}, method: "HEAD", target: "/u/1", status: 200, body: "GET /u/{id} id=1"},
		{name: "HEAD without GET", routes: []reg{{"POST", "/a"}}, method: "HEAD", target: "/a", status: 405, body: "Method Not Allowed\n", allow: "OPTIONS, POST"},

		{name: "404", routes: []reg{{"GET", "/a"}}, method: "GET", target: "/b", status: 404, body: "Not Found\n"},
		{name: "404 empty registry", method: "GET", target: "/", status: 404, body: "Not Found\n"},
		{name: "404 authority form", routes: []reg{{"", "/..."}}, method: "CONNECT", target: "example.com:443", status: 404, body: "Not Found\n"},
		{name: "404 empty path", routes: []reg{{"", "/..."}}, method: "GET", target: "", status: 404, body: "Not Found\n"},
		{name: "405", routes: []reg{{"GET", "/r"}, {"PUT", "/r"}, {"POST", "/r"}}, method: "DELETE", target: "/r", status: 405, body: "Method Not Allowed\n", allow: "GET, HEAD, OPTIONS, POST, PUT"},
		{name: "405 param", routes: []reg{{"POST", "/u/{id}"}}, method: "GET", target: "/u/1", status: 405, body: "Method Not Allowed\n", allow: "OPTIONS, POST"},
		{name: "405 prefix", routes: []reg{{"PUT", "/f/..."}}, method: "GET", target: "/f/x", status: 405, body: "Method Not Allowed\n", allow: "OPTIONS, PUT"},
		{name: "405 union of patterns", routes: []reg{{"GET", "/users/me"}, {"DELETE", "/users/{id}"}, {"PATCH", "/users/..."}, {"POST", "/other"}},
			method: "PUT", target: "/users/me", status: 405, body: "Method Not Allowed\n", allow: "DELETE, GET, HEAD, OPTIONS, PATCH"},
		{name: "405 only patterns of the path", routes: []reg{{"GET", "/a"}, {"POST", "/b"}}, method: "PUT", target: "/a", status: 405, body: "Method Not Allowed\n", allow: "GET, HEAD, OPTIONS"},

		{name: "OPTIONS automatic", routes: []reg{{"GET", "/a"}, {"POST", "/a"}}, method: "OPTIONS", target: "/a", status: 204, allow: "GET, HEAD, OPTIONS, POST"},
		{name: "OPTIONS automatic param", routes: []reg{{"DELETE", "/u/{id}"}}, method: "OPTIONS", target: "/u/1", status: 204, allow: "DELETE, OPTIONS"},
		{name: "OPTIONS route", routes: []reg{{"GET", "/a"}, {"OPTIONS", "/a"}}, method: "OPTIONS", target: "/a", status: 200, body: "OPTIONS /a"},
		{name: "OPTIONS any", routes: []reg{{"GET", "/a"}, {"", "/a"}}, method: "OPTIONS", target: "/a", status: 200, body: " /a"},
		{name: "OPTIONS unknown path", routes: []reg{{"GET", "/a"}}, method: "OPTIONS", target: "/b", status: 404, body: "Not Found\n"},
		{name: "OPTIONS asterisk", routes: []reg{{"GET", "/a"}}, method: "OPTIONS", target: "*", status: 204, noHeader: true},
		{name: "OPTIONS asterisk empty registry", method: "OPTIONS", target: "*", status: 204, noHeader: true},
		{name: "asterisk other method", routes: []reg{{"", "/..."}}, method: "GET", target: "*", status: 400, body: "Bad Request\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			for _, rr := range tt.routes {
				r.Handle(rr.method, rr.pattern, tagged(rr.method+" "+rr.pattern))
			}
			r.Freeze()
			w := serve(r, newRequest(tt.method, tt.target))
			if got := w.Status(); got != tt.status {
				t.Errorf("status: got %d, want %d", got, tt.status)
			}
			if got := string(w.Body()); got != tt.body {
				t.Errorf("body: got %q, want %q", got, tt.body)
			}
			header := string(w.HeaderBytes())
			if tt.allow != "" && !strings.Contains(header, "Allow: "+tt.allow+"\r\n") {
				t.Errorf("header: got %q, want Allow: %q", header, tt.allow)
			}
			if tt.allow == "" && strings.Contains(header, "Allow:") {
				t.Errorf("header: got %q, want no Allow", header)
			}
			if tt.noHeader && header != "" {
				t.Errorf("header: got %q, want none", header)
			}
			if tt.body != "" && tt.status >= 400 && !strings.Contains(header, "Content-Type: text/plain; charset=utf-8\r\n") {
				t.Errorf("header: got %q, want text/plain", header)
			}
		})
	}
}

// answer is what a handler routed for req answered, for comparisons.
func answer(h Handler, req *Request) string {
	w := new(Response)
	h.ServeHTTP(w, req)
	return fmt.Sprintf("%d %q %q", w.Status(), w.HeaderBytes(), w.Body())
}

// RouteCached answers as Route does, whatever the cache holds: a run of
// requests through one cache, each path repeated (a hit) and then
// changed (a miss), over exact patterns, parameters, prefixes, 405s,
// OPTIONS and "*".
func TestRouteCached(t *testing.T) {
	r := NewRegistry()
	for _, rr := range []reg{{"GET", "/a"}, {"POST", "/a"}, {"GET", "/u/{id}"}, {"GET", "/u/new"},
		{"", "/any"}, {"GET", "/files/..."}, {"DELETE", "/files/x"}} {
		r.Handle(rr.method, rr.pattern, tagged(rr.method+" "+rr.pattern))
	}
	r.Freeze()
	var c RouteCache
	reqs := []struct{ method, target string }{
		{"GET", "/a"}, {"HEAD", "/a"}, {"POST", "/a"}, {"PUT", "/a"}, {"OPTIONS", "/a"},
		{"GET", "/u/new"}, {"GET", "/u/7"}, {"GET", "/u/new"}, {"DELETE", "/u/new"},
		{"PATCH", "/any"}, {"GET", "/files/x"}, {"DELETE", "/files/x"}, {"GET", "/files/x/y"},
		{"GET", "/nope"}, {"OPTIONS", "*"}, {"GET", "*"}, {"GET", "/a?q=1"}, {"GET", "/a/"},
	}
	for round := range 3 {
		for i, rq := range reqs {
			if round == 1 && i%2 == 1 {
				continue // other neighbours: other hits and misses
			}
			for range 2 {
				req := newRequest(rq.method, rq.target)
				want := answer(r.Route(req), req)
				req = newRequest(rq.method, rq.target)
				if got := answer(r.RouteCached(req, &c), req); got != want {
					t.Fatalf("%s %s: got %s, want %s", rq.method, rq.target, got, want)
				}
			}
		}
	}
}

// The cache keeps a copy of the path, not the request's bytes, which
// the next request overwrites.
func TestRouteCachedCopiesThePath(t *testing.T) {
	r := NewRegistry()
	r.Handle("GET", "/a", tagged("a"))
	r.Handle("GET", "/b", tagged("b"))
	r.Freeze()
	var c RouteCache
	buf := []byte("/a")
	req := newRequest("GET", "/a")
	req.Path = buf
	if got := answer(r.RouteCached(req, &c), req); !strings.Contains(got, `"a"`) {
		t.Fatalf("/a: %s", got)
	}
	buf[1] = 'b' // the connection's buffer now holds the next request
	if got := answer(r.RouteCached(req, &c), req); !strings.Contains(got, `"b"`) {
		t.Fatalf("/b in the same bytes: %s", got)
	}
}

func TestRouteMissHeaders(t *testing.T) {
	r := NewRegistry()
	r.HandleFunc("GET", "/a", func(*Response, *Request) {})
	tests := []struct {
		name, method, target string
		want                 string
	}{
		{"404", "GET", "/b", "Content-Type: text/plain; charset=utf-8\r\n"},
		{"405", "POST", "/a", "Allow: GET, HEAD, OPTIONS\r\nContent-Type: text/plain; charset=utf-8\r\n"},
		{"OPTIONS", "OPTIONS", "/a", "Allow: GET, HEAD, OPTIONS\r\n"},
		{"asterisk", "OPTIONS", "*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(r, newRequest(tt.method, tt.target))
			if got := string(w.HeaderBytes()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRouteResetsParams(t *testing.T) {
	r := NewRegistry()
	r.Handle("GET", "/u/{id}", tagged("u"))
	r.Handle("GET", "/a", tagged("a"))
	req := newRequest("GET", "/u/1")
	r.Route(req)
	if got := string(req.Param("id")); got != "1" {
		t.Fatalf("Param(id): got %q, want %q", got, "1")
	}
	req.Path = []byte("/a")
	r.Route(req)
	if got := req.Param("id"); got != nil {
		t.Errorf("Param(id) after routing /a: got %q, want nil", got)
	}
}

func TestParamMissing(t *testing.T) {
	r := NewRegistry()
	r.Handle("GET", "/files/...", tagged("f"))
	req := newRequest("GET", "/files/")
	r.Route(req)
	if got := req.Param("..."); got == nil || len(got) != 0 {
		t.Errorf(`Param("..."): got %q (nil %v), want empty and not nil`, got, got == nil)
	}
	if got := req.Param("id"); got != nil {
		t.Errorf("Param(id): got %q, want nil", got)
	}
}

func TestHandlePanics(t *testing.T) {
	h := tagged("h")
	tests := []struct {
		name  string
		setup []reg // registered first, must not panic
		m, p  string
		h     Handler
		want  string // a part of the panic message
	}{
		{name: "empty pattern", p: "", want: "empty pattern"},
		{name: "relative pattern", p: "a/b", want: "starts with '/'"},
		{name: "method in pattern", p: "GET /a", want: "starts with '/'"},
		{name: "nil handler", p: "/a", h: Handler(nil), want: "nil handler"},
		{name: "nil HandlerFunc", p: "/a", h: HandlerFunc(nil), want: "nil handler"},
		{name: "bad method", m: "GE T", p: "/a", want: "invalid method"},
		{name: "bad method char", m: "GET/", p: "/a", want: "invalid method"},
		{name: "duplicate", setup: []reg{{"GET", "/a"}}, m: "GET", p: "/a", want: `GET "/a" registered twice`},
		{name: "duplicate param", setup: []reg{{"GET", "/u/{id}"}}, m: "GET", p: "/u/{id}", want: "registered twice"},
		{name: "duplicate prefix", setup: []reg{{"GET", "/s/..."}}, m: "GET", p: "/s/...", want: "registered twice"},
		{name: "duplicate any", setup: []reg{{"", "/a"}}, m: "*", p: "/a", want: "registered twice"},
		{name: "param names differ", setup: []reg{{"GET", "/u/{id}"}}, m: "POST", p: "/u/{uid}", want: `conflicts with "/u/{id}"`},
		{name: "prefix param names differ", setup: []reg{{"GET", "/u/{id}/..."}}, m: "GET", p: "/u/{x}/...", want: "conflicts"},
		{name: "too many params", p: "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", want: "more than 8 parameters"},
		{name: "repeated param", p: "/{a}/{a}", want: "appears twice"},
		{name: "partial param", p: "/u/{id}.json", want: "whole segment"},
		{name: "partial param suffix", p: "/u/x{id}", want: "whole segment"},
		{name: "unclosed param", p: "/u/{id", want: "whole segment"},
		{name: "empty param", p: "/u/{}", want: "parameter name"},
		{name: "bad param name", p: "/u/{a-b}", want: "parameter name"},
		{name: "dots param", p: "/u/{...}", want: "parameter name"},
		{name: "dots inside", p: "/a/.../b", want: `"..." may only end`},
		{name: "dots without slash", p: "/a...", want: `ends in "/..."`},
		{name: "space", p: "/a b", want: "cannot appear"},
		{name: "query", p: "/a?b", want: "cannot appear"},
		{name: "non-ASCII", p: "/café", want: "cannot appear"},
		{name: "brace", p: "/a{b", want: "cannot appear"},
		{name: "bad escape", p: "/100%", want: "%XX"},
		{name: "bad escape digits", p: "/a%zz", want: "%XX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			for _, s := range tt.setup {
				r.Handle(s.method, s.pattern, h)
			}
			hh := tt.h
			if hh == nil && tt.name != "nil handler" {
				hh = h
			}
			msg := panicMessage(func() { r.Handle(tt.m, tt.p, hh) })
			if !strings.HasPrefix(msg, "handlers: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic: got %q, want one containing %q", msg, tt.want)
			}
		})
	}
}

func TestHandleAccepts(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/", "/a//b", "/-._~!$&'()*+,;=:@", "/%2F%2f", "/{a_1}/{B}", "/...", "/a/...", "/{x}/...", "/a/..b", "/a/...b/c"} {
		t.Run(p, func(t *testing.T) {
			r := NewRegistry()
			if msg := panicMessage(func() { r.Handle("GET", p, tagged(p)) }); msg != "" {
				t.Errorf("Handle(%q) panicked: %s", p, msg)
			}
		})
	}
}

func TestHandleFuncNil(t *testing.T) {
	r := NewRegistry()
	msg := panicMessage(func() { r.HandleFunc("GET", "/a", nil) })
	if want := `handlers: nil handler for GET "/a"`; msg != want {
		t.Errorf("got %q, want %q", msg, want)
	}
}

func TestTooManyMethods(t *testing.T) {
	r := NewRegistry()
	// GET, HEAD and OPTIONS take three bits.
	for i := 0; i < 61; i++ {
		r.Handle(fmt.Sprintf("M%d", i), "/a", tagged("m"))
	}
	r.Handle("GET", "/a", tagged("get"))
	msg := panicMessage(func() { r.Handle("ONEMORE", "/a", tagged("x")) })
	if !strings.Contains(msg, "more than 64 distinct methods") {
		t.Errorf("got %q, want a panic about 64 methods", msg)
	}
	w := serve(r, newRequest("PUT", "/a"))
	if got := w.Status(); got != 405 {
		t.Fatalf("status: got %d, want 405", got)
	}
	if got := strings.Count(string(w.HeaderBytes()), ", "); got != 63 {
		t.Errorf("Allow lists %d methods, want 64", got+1)
	}
}

func TestFreeze(t *testing.T) {
	r := NewRegistry()
	r.Handle("GET", "/a", tagged("a"))
	r.Freeze()
	r.Freeze()
	for _, f := range []func(){
		func() { r.Handle("GET", "/b", tagged("b")) },
		func() { r.HandleFunc("GET", "/c", func(*Response, *Request) {}) },
		func() { r.Handle("GET", "/a", nil) },
	} {
		if got, want := panicMessage(f), "handlers: registration after the engine started"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if got := string(serve(r, newRequest("GET", "/a")).Body()); got != "a" {
		t.Errorf("route after Freeze: got %q, want %q", got, "a")
	}
	if got := serve(r, newRequest("GET", "/b")).Status(); got != 404 {
		t.Errorf("refused route: got %d, want 404", got)
	}
}

func TestRouteConcurrent(t *testing.T) {
	r := NewRegistry()
	RegisterBuiltins(r, nil)
	r.Handle("GET", "/u/{id}", tagged("u"))
	r.Handle("GET", "/s/...", tagged("s"))
	r.Freeze()
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			req := newRequest("GET", "/u/1")
			w := new(Response)
			for i := 0; i < 1000; i++ {
				for _, p := range []string{"/u/1", "/s/x", "/json", "/nope"} {
					req.Path = []byte(p)
					w.Reset()
					r.Route(req).ServeHTTP(w, req)
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// panicMessage runs f and returns what it panicked with, as a string, or ""
// when it returned normally.
func panicMessage(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}
