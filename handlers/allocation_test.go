//go:build !race

package handlers

import "testing"

func TestRouteAllocs(t *testing.T) {
	r := benchRegistry()
	for _, tc := range routeCases {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() { r.Route(tc.req) }); n != 0 {
				t.Errorf("Route: got %v allocations, want 0", n)
			}
			w := new(Response)
			serveOnce := func() {
				w.Reset()
				r.Route(tc.req).ServeHTTP(w, tc.req)
			}
			if n := testing.AllocsPerRun(100, serveOnce); n != 0 {
				t.Errorf("Route+ServeHTTP: got %v allocations, want 0", n)
			}
		})
	}
}

func TestBuiltinAllocs(t *testing.T) {
	r := benchRegistry()
	tests := []struct {
		name string
		req  *Request
	}{
		{"plaintext", newRequest("GET", "/plaintext", "Host", "localhost")},
		{"json", newRequest("GET", "/json", "Host", "localhost")},
		{"echo", withBody(newRequest("POST", "/echo?x=1", "Host", "localhost", "User-Agent", "wrk", "X-Bin", "caf\xe9\x01"), "small body")},
		{"healthz", onConn(newRequest("GET", "/healthz", "Host", "localhost"), false)},
		{"stats", newRequest("GET", "/stats")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := new(Response)
			h := r.Route(tt.req)
			n := testing.AllocsPerRun(100, func() {
				w.Reset()
				h.ServeHTTP(w, tt.req)
			})
			if n != 0 {
				t.Errorf("got %v allocations, want 0", n)
			}
		})
	}
}

func TestResponseHeaderAllocs(t *testing.T) {
	w := new(Response)
	long := "X-A-Rather-Long-Header-Name-Past-Thirty-Two-Bytes"
	n := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.Header(long, "v")
		w.Header("Content-Type", "text/plain")
		w.Header("Connection", "close")
	})
	if n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
