package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuiltinMethods(t *testing.T) {
	cases := []struct {
		name, method, params, result string
		code                         int
	}{
		{"echo str", "echo", "91 a5 68656c6c6f", "a5 68656c6c6f", 0},
		{"echo first of two", "echo", "92 c3 01", "c3", 0},
		{"echo nested", "echo", "91 81 a1 61 92 01 c0", "81 a1 61 92 01 c0", 0},
		{"echo none", "echo", "90", "", 0},
		{"echo not array", "echo", "a1 61", "", handlers.CodeBadParams},
		{"ping", "ping", "90", "a4 706f6e67", 0},
		{"ping ignores params", "ping", "92 01 02", "a4 706f6e67", 0},
	}
	reg := handlers.NewRegistry()
	RegisterBuiltins(reg)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w handlers.Reply
			reg.Method([]byte(tc.method)).ServeRPC(&w, &handlers.Call{Method: []byte(tc.method), Params: unhexT(t, tc.params)})
			code, _, failed := w.Err()
			if tc.code != 0 {
				if !failed || code != tc.code {
					t.Fatalf("got code %d (failed %v), want %d", code, failed, tc.code)
				}
				return
			}
			if failed {
				t.Fatalf("failed with %d", code)
			}
			if got, want := w.Result(), unhexT(t, tc.result); !bytes.Equal(got, want) {
				t.Errorf("got % x, want % x", got, want)
			}
		})
	}
}

// recorder is a Sender that records what a stream handler sends.
type recorder struct {
	out    []string
	closed bool
}

func (r *recorder) Write(d []byte) {
	if !r.closed {
		r.out = append(r.out, "chunk:"+string(d))
	}
}
func (r *recorder) Error(cat, code int, msg string) {
	r.closed = true
	r.out = append(r.out, "error:"+msg)
}
func (r *recorder) Close()                      { r.closed = true; r.out = append(r.out, "close") }
func (r *recorder) Closed() bool                { return r.closed }
func (r *recorder) Conn() handlers.Conn         { return nil }
func (r *recorder) Keep() handlers.StreamWriter { panic("recorder: Keep") }

func TestEchoStream(t *testing.T) {
	tx := &recorder{}
	rx := EchoStream.OpenStream(tx, []byte("echo"))
	rx.Chunk(tx, []byte("a"))
	rx.Chunk(tx, []byte("bc"))
	rx.Close(tx)
	if got := strings.Join(tx.out, " "); got != "chunk:a chunk:bc" {
		t.Errorf("got %q (the codec closes for the handler)", got)
	}
}

func TestBuiltinsDoNotAllocate(t *testing.T) {
	reg := handlers.NewRegistry()
	RegisterBuiltins(reg)
	echo, ping := reg.Method([]byte("echo")), reg.Method([]byte("ping"))
	call := &handlers.Call{Params: unhexT(t, "91 a5 68656c6c6f")}
	var w handlers.Reply
	w.SetResult(make([]byte, 0, 64))
	var tx recorder
	tx.out = make([]string, 0, 1)
	rx := EchoStream.OpenStream(&tx, nil)
	n := testing.AllocsPerRun(200, func() {
		w.Reset()
		echo.ServeRPC(&w, call)
		w.Reset()
		ping.ServeRPC(&w, call)
		_ = EchoStream.OpenStream(&tx, nil)
		rx.Close(&tx)
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// serve routes a request to reg and returns the response's status, headers
// and body.
func serve(t *testing.T, reg *handlers.Registry, method, target, ctype string, body []byte) (int, string, []byte) {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	req := &handlers.Request{Method: []byte(method), Target: []byte(target), Path: []byte(path),
		Proto: []byte("HTTP/1.1"), ProtoMajor: 1, ProtoMinor: 1, Body: body}
	if ctype != "" {
		req.Headers = []handlers.Header{{Name: []byte("Content-Type"), Value: []byte(ctype)}}
	}
	var w handlers.Response
	reg.Route(req).ServeHTTP(&w, req)
	return w.Status(), string(w.HeaderBytes()), w.Body()
}

func bridgeRegistry() *handlers.Registry {
	reg := handlers.NewRegistry()
	RegisterBuiltins(reg)
	RegisterHTTP(reg)
	reg.HandleRPCFunc("fail", func(w *handlers.Reply, c *handlers.Call) { w.SetError(42, "it failed") })
	reg.HandleRPCFunc("late", func(w *handlers.Reply, c *handlers.Call) { w.SetError(handlers.CodeTimeout, "too late") })
	reg.HandleRPCFunc("panic", func(*handlers.Reply, *handlers.Call) { panic("boom") })
	reg.HandleRPCFunc("bad result", func(w *handlers.Reply, c *handlers.Call) { w.SetResult([]byte{0x92, 0x01}) })
	reg.HandleRPCFunc("nan", func(w *handlers.Reply, c *handlers.Call) {
		w.SetResult(mpack.AppendFloat64(w.Result(), nan()))
	})
	reg.HandleRPCFunc("params", func(w *handlers.Reply, c *handlers.Call) { w.SetResult(c.Params) })
	reg.HandleRPCFunc("bin", func(w *handlers.Reply, c *handlers.Call) {
		b := mpack.AppendMapHeader(w.Result(), 3)
		b = mpack.AppendStr(b, "b")
		b = mpack.AppendBin(b, []byte{0, 1, 0xff})
		b = mpack.AppendUint(b, 7)
		b = mpack.AppendStr(b, "int key")
		b = mpack.AppendStr(b, "e")
		b = mpack.AppendExt(b, 5, []byte{9})
		w.SetResult(b)
	})
	return reg
}

func nan() float64 { z := 0.0; return z / z }

func TestHTTPBridge(t *testing.T) {
	reg := bridgeRegistry()
	cases := []struct {
		name, target, ctype string
		body                string // JSON, or hex when ctype is msgpack
		status              int
		want                string // JSON, or hex
	}{
		{"json echo", "/rpc/echo", "application/json", `["hello", 2]`, 200, `"hello"`},
		{"json echo with charset", "/rpc/echo", "Application/JSON; charset=utf-8", `[{"a":[1,-2,3.5,true,null]}]`, 200, `{"a":[1,-2,3.5,true,null]}`},
		{"json big numbers", "/rpc/params", "application/json", `[18446744073709551615, -9223372036854775808, 1e300]`, 200, `[18446744073709551615,-9223372036854775808,1e+300]`},
		{"json ping", "/rpc/ping", "application/json", `[]`, 200, `"pong"`},
		{"json none", "/rpc/echo", "application/json", `[]`, 200, `null`},
		{"json unknown", "/rpc/nope", "application/json", `[]`, 404, `{"error":"unknown method \"nope\"","code":1}`},
		{"json not array", "/rpc/echo", "application/json", `{"a":1}`, 400, `{"error":"params: the body is not one msgpack array","code":2}`},
		{"json malformed", "/rpc/echo", "application/json", `[1,`, 400, `{"error":"params: unexpected EOF","code":2}`},
		{"json two values", "/rpc/echo", "application/json", `[1] [2]`, 400, `{"error":"params: more than one JSON value","code":2}`},
		{"json too deep", "/rpc/echo", "application/json", strings.Repeat("[", 40) + strings.Repeat("]", 40), 400, `{"error":"params: nesting deeper than 32 arrays and objects","code":2}`},
		{"json method error", "/rpc/fail", "application/json", `[]`, 500, `{"error":"it failed","code":42}`},
		{"json timeout error", "/rpc/late", "application/json", `[]`, 408, `{"error":"too late","code":6}`},
		{"json bad result", "/rpc/bad%20result", "application/json", `[]`, 500, `{"error":"internal error: the method's result is not one msgpack value","code":4}`},
		{"json nan", "/rpc/nan", "application/json", `[]`, 500, `{"error":"result: NaN or an infinity has no JSON form","code":4}`},
		{"json bin and keys", "/rpc/bin", "application/json", `[]`, 200, `{"b":"AAH/","7":"int key","e":{"type":5,"data":"CQ=="}}`},
		{"percent", "/rpc/%70ing", "application/json", `[]`, 200, `"pong"`},
		{"bad percent", "/rpc/p%zz", "application/json", `[]`, 404, `{"error":"unknown method \"p%zz\"","code":1}`},
		{"msgpack echo", "/rpc/echo", "application/msgpack", "92 a2 6869 01", 200, "a2 6869"},
		{"x-msgpack ping", "/rpc/ping", "application/x-msgpack", "90", 200, "a4 706f6e67"},
		{"msgpack none", "/rpc/echo", "application/vnd.msgpack", "90", 200, "c0"},
		{"msgpack trailing", "/rpc/echo", "application/msgpack", "90 90", 400, ""},
		{"msgpack bomb", "/rpc/echo", "application/msgpack", "dd ffffffff", 400, ""},
		{"msgpack unknown", "/rpc/nope", "application/msgpack", "90", 404, "82 a5 6572726f72 b5 756e6b6e6f776e206d6574686f6420226e6f706522 a4 636f6465 01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			msgpack := !strings.Contains(strings.ToLower(tc.ctype), "json")
			if msgpack {
				body = unhexT(t, tc.body)
			}
			status, header, got := serve(t, reg, "POST", tc.target, tc.ctype, body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", status, tc.status, got)
			}
			wantType := "application/json"
			if msgpack {
				wantType = "application/msgpack"
			}
			if !strings.Contains(header, "Content-Type: "+wantType+"\r\n") {
				t.Errorf("headers %q, want Content-Type %s", header, wantType)
			}
			if msgpack && tc.want == "" {
				return
			}
			want := []byte(tc.want)
			if msgpack {
				want = unhexT(t, tc.want)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestHTTPBridgeRefuses(t *testing.T) {
	reg := bridgeRegistry()
	if status, header, _ := serve(t, reg, "POST", "/rpc/ping", "text/plain", []byte("[]")); status != 415 || !strings.Contains(header, "Accept-Post:") {
		t.Errorf("text/plain: %d %q, want 415 with Accept-Post", status, header)
	}
	if status, _, _ := serve(t, reg, "POST", "/rpc/ping", "", []byte("[]")); status != 415 {
		t.Errorf("no Content-Type: %d, want 415", status)
	}
	if status, _, _ := serve(t, reg, "GET", "/rpc/ping", "application/json", nil); status != 405 {
		t.Errorf("GET: %d, want 405", status)
	}
	func() {
		defer func() {
			p, ok := recover().(*rpccall.Panic)
			if !ok || p.Value != "boom" || !bytes.Contains(p.Stack, []byte("bridgeRegistry")) {
				t.Errorf("a method's panic reached the codec as %v, want the panic with its stack", p)
			}
		}()
		serve(t, reg, "POST", "/rpc/panic", "application/json", []byte("[]"))
	}()
}

func TestHTTPBridgeBlocks(t *testing.T) {
	reg := handlers.NewRegistry()
	RegisterHTTP(reg)
	reg.HandleRPC("slow", handlers.BlockingMethod(handlers.MethodFunc(Ping)))
	reg.HandleRPCFunc("fast", Ping)
	for target, want := range map[string]bool{"/rpc/slow": true, "/rpc/fast": false, "/rpc/none": false, "/rpc/sl%6fw": true} {
		req := &handlers.Request{Method: []byte("POST"), Path: []byte(target)}
		if got := handlers.Blocks(reg.Route(req), req); got != want {
			t.Errorf("%s: Blocks %v, want %v", target, got, want)
		}
	}
	// A large JSON body is converted off the loop, whatever the method.
	for _, tc := range []struct {
		ctype string
		size  int
		want  bool
	}{{"application/json", maxInlineJSON + 1, true}, {"application/json", maxInlineJSON, false}, {"application/msgpack", 1 << 20, false}} {
		req := &handlers.Request{Method: []byte("POST"), Path: []byte("/rpc/fast"), Body: make([]byte, tc.size),
			Headers: []handlers.Header{{Name: []byte("Content-Type"), Value: []byte(tc.ctype)}}}
		if got := handlers.Blocks(reg.Route(req), req); got != tc.want {
			t.Errorf("%s, %d bytes: Blocks %v, want %v", tc.ctype, tc.size, got, tc.want)
		}
	}
}

// headChunk is a stream handler's first chunk [code, headers].
func headChunk(code int, kv ...string) []byte {
	b := mpack.AppendArrayHeader(nil, 2)
	b = mpack.AppendInt(b, int64(code))
	b = mpack.AppendArrayHeader(b, uint32(len(kv)/2))
	for i := 0; i+1 < len(kv); i += 2 {
		b = mpack.AppendArrayHeader(b, 2)
		b = mpack.AppendStr(b, kv[i])
		b = mpack.AppendStr(b, kv[i+1])
	}
	return b
}

// webApp answers the request chunk it gets: its fields, one per body chunk.
type webApp struct{ t *testing.T }

func (a webApp) Chunk(tx handlers.Sender, data []byte) {
	n, b, err := mpack.ReadArrayHeader(data)
	if err != nil || n != 5 {
		a.t.Fatalf("request chunk % x", data)
	}
	method, b, _ := mpack.ReadStr(b)
	uri, b, _ := mpack.ReadStr(b)
	version, b, _ := mpack.ReadStr(b)
	nh, b, _ := mpack.ReadArrayHeader(b)
	var hs []string
	for range nh {
		_, b, _ = mpack.ReadArrayHeader(b)
		var k, v []byte
		k, b, _ = mpack.ReadStr(b)
		v, b, _ = mpack.ReadStr(b)
		hs = append(hs, string(k)+"="+string(v))
	}
	body, _, err := mpack.ReadBin(b)
	if err != nil {
		a.t.Fatalf("body: %v", err)
	}
	tx.Write(headChunk(201, "X-App", "yes", "Content-Length", "999"))
	for _, part := range []string{string(method), " ", string(uri), " ", string(version), " ", strings.Join(hs, ","), " ", string(body)} {
		tx.Write([]byte(part))
	}
}
func (webApp) Error(handlers.Sender, int, int, []byte) {}
func (webApp) Close(tx handlers.Sender)                {}

func TestStreamHTTP(t *testing.T) {
	reg := handlers.NewRegistry()
	reg.Handle("*", "/app/...", StreamHTTP("http", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		if string(event) != "http" {
			t.Errorf("event %q", event)
		}
		return webApp{t}
	})))
	req := &handlers.Request{Method: []byte("PUT"), Target: []byte("/app/x?y"), Path: []byte("/app/x"),
		ProtoMinor: 1, Body: []byte("data"),
		Headers: []handlers.Header{{Name: []byte("Host"), Value: []byte("h")}, {Name: []byte("X-A"), Value: []byte("b")}}}
	var w handlers.Response
	reg.Route(req).ServeHTTP(&w, req)
	if w.Status() != 201 {
		t.Errorf("status %d", w.Status())
	}
	if got := string(w.HeaderBytes()); got != "X-App: yes\r\n" {
		t.Errorf("headers %q (Content-Length is the codec's)", got)
	}
	if got, want := string(w.Body()), "PUT /app/x?y 1.1 Host=h,X-A=b data"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStreamHTTPFailures(t *testing.T) {
	cases := map[string]func(tx handlers.Sender){
		"nothing":          func(tx handlers.Sender) { tx.Close() },
		"error first":      func(tx handlers.Sender) { tx.Error(1, 2, "no") },
		"head not array":   func(tx handlers.Sender) { tx.Write([]byte{0xa1, 'x'}) },
		"head bad code":    func(tx handlers.Sender) { tx.Write(headChunk(42)) },
		"head raw bytes":   func(tx handlers.Sender) { tx.Write([]byte("HTTP/1.1 200 OK")) },
		"error after head": func(tx handlers.Sender) { tx.Write(headChunk(200)); tx.Write([]byte("part")); tx.Error(1, 2, "oops") },
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			h := StreamHTTP("http", handlers.StreamFunc(func(tx handlers.Sender, _ []byte) handlers.Receiver {
				send(tx)
				return nil
			}))
			req := &handlers.Request{Method: []byte("GET"), Target: []byte("/"), Path: []byte("/")}
			var w handlers.Response
			h.ServeHTTP(&w, req)
			if w.Status() != 502 || !bytes.HasPrefix(w.Body(), []byte("502 Bad Gateway: ")) {
				t.Errorf("got %d %q, want a 502 with the reason", w.Status(), w.Body())
			}
		})
	}
}

// The bytes of docs/protocols.md.
func TestStreamHTTPGolden(t *testing.T) {
	req := &handlers.Request{Method: []byte("GET"), Target: []byte("/app/x"), ProtoMinor: 1,
		Headers: []handlers.Header{{Name: []byte("Host"), Value: []byte("x")}}}
	want := unhexT(t, "95 a3 474554 a6 2f6170702f78 a3 312e31 91 92 a4 486f7374 a1 78 c4 00")
	if got := appendRequestChunk(nil, req); !bytes.Equal(got, want) {
		t.Errorf("request chunk: got % x, want % x", got, want)
	}
	want = unhexT(t, "92 cc c8 91 92 ac 436f6e74656e742d54797065 aa 746578742f706c61696e")
	if got := headChunk(200, "Content-Type", "text/plain"); !bytes.Equal(got, want) {
		t.Errorf("head chunk: got % x, want % x", got, want)
	}
}

// goneConn is a connection whose client has left: its context is done.
type goneConn struct{ ctx context.Context }

func (c goneConn) LocalAddr() net.Addr            { return &net.TCPAddr{} }
func (c goneConn) RemoteAddr() net.Addr           { return &net.TCPAddr{} }
func (c goneConn) Loop() int                      { return 0 }
func (c goneConn) Value() any                     { return nil }
func (c goneConn) SetValue(any)                   {}
func (c goneConn) EngineContext() context.Context { return context.Background() }
func (c goneConn) Context() context.Context       { return c.ctx }

// A JSON body large enough for the offload pool stops between its steps
// once the client has left: the method does not run for nobody.
func TestHTTPBridgeStopsWhenTheClientLeft(t *testing.T) {
	reg := handlers.NewRegistry()
	RegisterHTTP(reg)
	var ran int
	reg.HandleRPCFunc("count", func(w *handlers.Reply, c *handlers.Call) { ran++ })
	reg.Freeze()
	body := []byte("[" + strings.Repeat(`"x",`, maxInlineJSON/4) + `"x"]`)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		conn handlers.Conn
		ran  int
	}{
		{"client here", goneConn{context.Background()}, 1},
		{"client gone", goneConn{gone}, 0},
	} {
		ran = 0
		req := &handlers.Request{Method: []byte("POST"), Target: []byte("/rpc/count"), Path: []byte("/rpc/count"),
			Proto: []byte("HTTP/1.1"), ProtoMajor: 1, ProtoMinor: 1, Body: body, Conn: tc.conn,
			Headers: []handlers.Header{{Name: []byte("Content-Type"), Value: []byte("application/json")}}}
		var w handlers.Response
		reg.Route(req).ServeHTTP(&w, req)
		if ran != tc.ran {
			t.Errorf("%s: the method ran %d times, want %d", tc.name, ran, tc.ran)
		}
	}
}
