package main

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// The peer answers the harness's endpoints with tokamak's bytes.
func TestEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Shutdown()
	base := "http://" + ln.Addr().String()
	for _, tc := range []struct{ path, ctype, body string }{
		{"/plaintext", "text/plain; charset=utf-8", "Hello, World!"},
		{"/json", "application/json", `{"message":"Hello, World!"}`},
	} {
		c := http.Client{Timeout: 5 * time.Second}
		res, err := c.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.ctype || string(b) != tc.body {
			t.Errorf("GET %s: %d %q %q", tc.path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}
	res, err := http.Get(base + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("GET /nope: %d", res.StatusCode)
	}
}
