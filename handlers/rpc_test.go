package handlers

import (
	"bytes"
	"strings"
	"testing"
)

func TestRPCRegistry(t *testing.T) {
	r := NewRegistry()
	ping := MethodFunc(func(w *Reply, c *Call) { w.SetResult([]byte{0xc0}) })
	r.HandleRPC("ping", ping)
	r.HandleRPC("slow", BlockingMethod(ping))
	r.HandleStream("echo", StreamFunc(func(Sender, []byte) Receiver { return nil }))
	r.HandleStream("*", StreamFunc(func(Sender, []byte) Receiver { return nil }))

	if r.Method([]byte("ping")) == nil || r.Method([]byte("nope")) != nil {
		t.Error("Method lookup")
	}
	if MethodBlocks(r.Method([]byte("ping"))) || !MethodBlocks(r.Method([]byte("slow"))) {
		t.Error("MethodBlocks")
	}
	if r.Stream([]byte("echo")) == nil || r.Stream([]byte("ping")) != nil || r.StreamFallback() == nil {
		t.Error("Stream lookup")
	}
	if got := strings.Join(r.MethodNames(), ","); got != "ping,slow" {
		t.Errorf("MethodNames: got %q", got)
	}
	if got := strings.Join(r.StreamNames(), ","); got != "echo" {
		t.Errorf("StreamNames: got %q", got)
	}
	if got := strings.Join(r.Events(), ","); got != "echo,ping,slow" {
		t.Errorf("Events: got %q", got)
	}
	name := []byte("ping")
	if n := testing.AllocsPerRun(100, func() { _ = r.Method(name); _ = r.Stream(name) }); n != 0 {
		t.Errorf("lookups allocate %v times", n)
	}
}

func TestRPCRegistrationPanics(t *testing.T) {
	m := MethodFunc(func(*Reply, *Call) {})
	s := StreamFunc(func(Sender, []byte) Receiver { return nil })
	cases := map[string]func(r *Registry){
		"nil method":        func(r *Registry) { r.HandleRPC("x", nil) },
		"nil method func":   func(r *Registry) { r.HandleRPC("x", MethodFunc(nil)) },
		"nil func":          func(r *Registry) { r.HandleRPCFunc("x", nil) },
		"empty name":        func(r *Registry) { r.HandleRPC("", m) },
		"method twice":      func(r *Registry) { r.HandleRPC("x", m); r.HandleRPC("x", m) },
		"nil stream":        func(r *Registry) { r.HandleStream("x", nil) },
		"nil stream func":   func(r *Registry) { r.HandleStream("x", StreamFunc(nil)) },
		"empty event":       func(r *Registry) { r.HandleStream("", s) },
		"stream twice":      func(r *Registry) { r.HandleStream("x", s); r.HandleStream("x", s) },
		"fallback twice":    func(r *Registry) { r.HandleStream("*", s); r.HandleStream("*", s) },
		"method after run":  func(r *Registry) { r.Freeze(); r.HandleRPC("x", m) },
		"stream after run":  func(r *Registry) { r.Freeze(); r.HandleStream("x", s) },
		"blocking nil":      func(*Registry) { BlockingMethod(nil) },
		"blocking http nil": func(*Registry) { Blocking(nil) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

func TestReply(t *testing.T) {
	var w Reply
	if _, _, failed := w.Err(); failed || len(w.Result()) != 0 {
		t.Fatal("zero Reply is not empty")
	}
	view := []byte{0xa2, 'h', 'i', 0xff}
	w.SetResult(view[:3])
	view[1] = 'X' // a foreign slice is copied
	if got := w.Result(); !bytes.Equal(got, []byte{0xa2, 'h', 'i'}) {
		t.Errorf("SetResult kept a view: %x", got)
	}
	w.Reset()
	w.SetResult(append(w.Result(), 0xc3)) // own buffer, grown in place: adopted
	if got := w.Result(); !bytes.Equal(got, []byte{0xc3}) {
		t.Errorf("got %x", got)
	}
	w.Errorf(CodeBadParams, "bad %d", 7)
	if code, msg, failed := w.Err(); !failed || code != CodeBadParams || string(msg) != "bad 7" {
		t.Errorf("Err: %d %q %v", code, msg, failed)
	}
	w.Reset()
	if _, _, failed := w.Err(); failed || len(w.Result()) != 0 {
		t.Error("Reset did not empty the reply")
	}
	w.SetResult(make([]byte, maxKeptReply+1))
	w.Shrink()
	if cap(w.Result()) != 0 {
		t.Error("Shrink kept a large buffer")
	}
	buf := make([]byte, 0, 16)
	w.SetResult(append(buf, 0xc0))
	if n := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.SetResult(append(w.Result(), 0xa4, 'p', 'o', 'n', 'g'))
	}); n != 0 {
		t.Errorf("reply reuse allocates %v times", n)
	}
}

func TestBlocksAndClone(t *testing.T) {
	h := HandlerFunc(func(*Response, *Request) {})
	req := &Request{Method: []byte("GET"), Target: []byte("/a/7?q=1"), Path: []byte("/a/7"),
		Query: []byte("q=1"), Proto: []byte("HTTP/1.1"), ProtoMajor: 1, ProtoMinor: 1,
		Host: []byte("h"), Headers: []Header{{[]byte("Host"), []byte("h")}}, Body: []byte("body")}
	if Blocks(h, req) || !Blocks(Blocking(h), req) {
		t.Error("Blocks")
	}
	r := NewRegistry()
	r.HandleFunc("GET", "/a/{id}", h)
	r.Route(req)
	c := req.Clone()
	for _, b := range [][]byte{req.Method, req.Target, req.Path, req.Query, req.Host, req.Body, req.Headers[0].Value} {
		for i := range b {
			b[i] = '#'
		}
	}
	if string(c.Method) != "GET" || string(c.Target) != "/a/7?q=1" || string(c.Path) != "/a/7" ||
		string(c.Query) != "q=1" || string(c.Host) != "h" || string(c.Body) != "body" ||
		string(c.Header("host")) != "h" || string(c.Param("id")) != "7" || c.ProtoMinor != 1 {
		t.Errorf("clone shares bytes with the original: %+v", c)
	}
}
