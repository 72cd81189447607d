package rpccall

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

func TestServe(t *testing.T) {
	cases := []struct {
		name   string
		m      handlers.MethodFunc
		result []byte
		code   int
		panics bool
	}{
		{"result", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{0x92, 1, 2}) }, []byte{0x92, 1, 2}, 0, false},
		{"none", func(*handlers.Reply, *handlers.Call) {}, nil, 0, false},
		{"error", func(w *handlers.Reply, c *handlers.Call) { w.SetError(9, "x") }, nil, 9, false},
		{"truncated result", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{0x92, 1}) }, nil, handlers.CodeInternal, false},
		{"two values", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{1, 2}) }, nil, handlers.CodeInternal, false},
		{"panic", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{1}); panic("boom") }, nil, handlers.CodeInternal, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w handlers.Reply
			p := Serve(tc.m, &w, &handlers.Call{})
			if (p != nil) != tc.panics {
				t.Fatalf("panic %v, want %v", p, tc.panics)
			}
			if tc.panics && p.(*Panic).Value != "boom" {
				t.Errorf("panic value %v", p)
			}
			code, _, failed := w.Err()
			if tc.code != 0 {
				if !failed || code != tc.code {
					t.Errorf("code %d (failed %v), want %d", code, failed, tc.code)
				}
				return
			}
			if failed || !bytes.Equal(w.Result(), tc.result) {
				t.Errorf("got % x (failed %v), want % x", w.Result(), failed, tc.result)
			}
		})
	}
	var w handlers.Reply
	w.SetResult(make([]byte, 0, 8))
	m := handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) { w.SetResult(append(w.Result(), 0xc3)) })
	call := &handlers.Call{}
	if n := testing.AllocsPerRun(100, func() { w.Reset(); Serve(m, &w, call) }); n != 0 {
		t.Errorf("Serve allocates %v times", n)
	}
}

type goPool struct{ full bool }

func (p goPool) Go(_ context.Context, _ int, fn func()) bool {
	if p.full {
		return false
	}
	go fn()
	return true
}

// postConn runs posted functions on the test goroutine through a channel.
type postConn struct {
	posted chan func(*codec.Flow)
}

func (c *postConn) PostWritable(fn func(*codec.Flow)) bool { return c.Post(fn) }
func (c *postConn) Post(fn func(*codec.Flow)) bool         { c.posted <- fn; return true }
func (*postConn) LocalAddr() net.Addr                      { return nil }
func (*postConn) RemoteAddr() net.Addr                     { return nil }
func (*postConn) Loop() int                                { return 0 }
func (*postConn) Value() any                               { return nil }
func (*postConn) SetValue(any)                             {}
func (*postConn) EngineContext() context.Context           { return context.Background() }
func (*postConn) Context() context.Context                 { return context.Background() }

func TestOffload(t *testing.T) {
	conn := &postConn{posted: make(chan func(*codec.Flow), 1)}
	method, params := []byte("m"), []byte{0x91, 0xa1, 'x'}
	m := handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		if string(c.Method) != "m" || !bytes.Equal(c.Params, []byte{0x91, 0xa1, 'x'}) {
			t.Errorf("call %q % x", c.Method, c.Params)
		}
		w.SetResult(c.Params[1:])
	})
	var got []byte
	ok := Offload(goPool{}, conn, m, method, params, func(f *codec.Flow, w *handlers.Reply, p any) {
		got = append(f.Out, w.Result()...)
	})
	if !ok {
		t.Fatal("Offload refused")
	}
	params[2] = 'Y' // the caller's buffer is reused at once: the call has a copy
	method[0] = 'z'
	(<-conn.posted)(&codec.Flow{})
	if string(got) != "\xa1x" {
		t.Errorf("got % x", got)
	}
	if Offload(goPool{full: true}, conn, m, method, params, nil) || Offload(nil, conn, m, method, params, nil) {
		t.Error("a full or absent pool took the call")
	}
}
