package handlers

import "testing"

// benchRegistry has the built-ins and a few patterns of each kind, like a
// small application.
func benchRegistry() *Registry {
	r := NewRegistry()
	RegisterBuiltins(r, benchStats)
	h := HandlerFunc(func(w *Response, _ *Request) { w.WriteString("x") })
	r.Handle("GET", "/users/{id}", h)
	r.Handle("DELETE", "/users/{id}", h)
	r.Handle("GET", "/users/{id}/posts/{post}", h)
	r.Handle("GET", "/users/me", h)
	r.Handle("GET", "/static/...", h)
	r.Handle("GET", "/static/img/...", h)
	r.Handle("POST", "/upload", h)
	r.Freeze()
	return r
}

var benchLoops = []LoopStats{{Loop: 0, Connections: 10, Requests: 1 << 40}, {Loop: 1, Connections: 12, Requests: 1 << 41}}

func benchStats() Stats { return Stats{Loops: benchLoops} }

// routeCases are requests whose routing and answer must not allocate.
var routeCases = []struct {
	name string
	req  *Request
}{
	{"exact", newRequest("GET", "/plaintext")},
	{"HEAD fallback", newRequest("HEAD", "/json")},
	{"param", newRequest("GET", "/users/42/posts/7")},
	{"param backtrack", newRequest("DELETE", "/users/me")},
	{"prefix", newRequest("GET", "/static/img/a/b.png")},
	{"404", newRequest("GET", "/nope/nothing")},
	{"405", newRequest("PUT", "/users/42")},
	{"OPTIONS", newRequest("OPTIONS", "/upload")},
	{"asterisk", newRequest("OPTIONS", "*")},
}

func BenchmarkRoute(b *testing.B) {
	r := benchRegistry()
	for _, tc := range routeCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Route(tc.req)
			}
		})
	}
}

func BenchmarkBuiltins(b *testing.B) {
	r := benchRegistry()
	for _, bc := range []struct {
		name string
		req  *Request
	}{
		{"plaintext", newRequest("GET", "/plaintext", "Host", "localhost")},
		{"json", newRequest("GET", "/json", "Host", "localhost")},
		{"echo", withBody(newRequest("POST", "/echo?x=1", "Host", "localhost", "User-Agent", "wrk", "Accept", "*/*"), "small body")},
		{"stats", newRequest("GET", "/stats")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := new(Response)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				r.Route(bc.req).ServeHTTP(w, bc.req)
			}
			b.SetBytes(int64(len(w.Body())))
		})
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"ascii", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"},
		{"utf8", "héllo wörld ✓ 😀 héllo wörld ✓ 😀"},
		{"escapes", "a\"b\\c\td\x01\xff\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			buf := make([]byte, 0, 4*len(in)+2)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				buf = appendJSONString(buf[:0], in)
			}
		})
	}
}
