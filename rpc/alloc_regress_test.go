//go:build !race

package rpc

import (
	"testing"

	"github.com/tokamak-io/tokamak/handlers"
)

// The bridge is a non-blocking handler on the event loop: for msgpack
// params it allocates nothing (DESIGN §6, issue 3). Its method-name buffer
// used to escape to the heap through the pooled Call: one allocation per
// request.
func TestHTTPBridgeMsgpackDoesNotAllocate(t *testing.T) {
	reg := bridgeRegistry()
	req := &handlers.Request{Method: []byte("POST"), Target: []byte("/rpc/echo"), Path: []byte("/rpc/echo"),
		Proto: []byte("HTTP/1.1"), ProtoMajor: 1, ProtoMinor: 1, Body: []byte{0x91, 0x01},
		Headers: []handlers.Header{{Name: []byte("Content-Type"), Value: []byte("application/msgpack")}}}
	var w handlers.Response
	serveOnce := func() {
		w.Reset()
		reg.Route(req).ServeHTTP(&w, req)
	}
	serveOnce()
	if w.Status() != 200 || string(w.Body()) != "\x01" {
		t.Fatalf("got %d % x, want 200 01", w.Status(), w.Body())
	}
	if n := testing.AllocsPerRun(1000, serveOnce); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}
