package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/rpc"
	"reflect"
	"testing"
	"time"

	"github.com/ugorji/go/codec"
)

// start serves the peer on a fresh local port and returns its address.
func start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln, newServer(), newHandle()) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// request is a MessagePack-RPC request frame for a small msgid, with the
// method as a fixstr and one parameter given as its encoded bytes.
func request(id byte, method string, param []byte) []byte {
	b := []byte{0x94, 0x00, id, 0xa0 | byte(len(method))}
	b = append(b, method...)
	b = append(b, 0x91)
	return append(b, param...)
}

// response is the frame the spec prescribes for a successful call.
func response(id byte, result []byte) []byte {
	return append([]byte{0x94, 0x01, id, 0xc0}, result...)
}

// readFrame reads one response whose result is a str or bin of at most
// 255 bytes (all TestPipelined sends) and returns its bytes. It reads by hand:
// decoding codec.Raw from a stream is what ugorji v1.3.2 gets wrong.
func readFrame(t *testing.T, r *bufio.Reader) []byte {
	t.Helper()
	b := make([]byte, 6)
	if _, err := io.ReadFull(r, b[:5]); err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	var n int
	switch tag := b[4]; {
	case tag == 0xc0:
		return b[:5]
	case tag&0xe0 == 0xa0:
		n, b = int(tag&0x1f), b[:5]
	case tag == 0xc4 || tag == 0xd9:
		if _, err := io.ReadFull(r, b[5:6]); err != nil {
			t.Fatalf("reading a response: %v", err)
		}
		n = int(b[5])
	default:
		t.Fatalf("unexpected response start % x", b[:5])
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	return append(b, body...)
}

func TestRawFrames(t *testing.T) {
	addr := start(t)
	tests := []struct {
		name   string
		method string
		param  []byte // encoded; nil sends params []
		want   []byte // encoded result
	}{
		{"str", "Echo.Echo", []byte("\xa5hello"), []byte("\xa5hello")},
		{"bin", "Echo.Echo", []byte{0xc4, 3, 1, 2, 3}, []byte{0xc4, 3, 1, 2, 3}},
		{"int", "Echo.Echo", []byte{0xcd, 0x12, 0x34}, []byte{0xcd, 0x12, 0x34}},
		{"nested", "Echo.Echo", []byte("\x81\xa1k\x92\x01\xc3"), []byte("\x81\xa1k\x92\x01\xc3")},
		{"str8", "Echo.Echo", append([]byte{0xd9, 40}, bytes.Repeat([]byte("x"), 40)...), append([]byte{0xd9, 40}, bytes.Repeat([]byte("x"), 40)...)},
		{"params has two", "Echo.Echo", []byte("\xa1a\xa1b"), []byte("\xa1a")},
		{"no param", "Echo.Echo", nil, []byte{0xc0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			req := request(42, tt.method, tt.param)
			if tt.param == nil {
				req[len(req)-1] = 0x90 // params []
			}
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			want := response(42, tt.want)
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got % x, want % x", got, want)
			}
		})
	}
}

// TestPipelined sends several requests in one write: the peer must answer
// each (in any order), which fails if buffering skips bytes.
func TestPipelined(t *testing.T) {
	c := dial(t, start(t))
	var batch []byte
	want := map[string]bool{}
	for id := byte(1); id <= 40; id++ {
		p := []byte{0xa1, 'a' + id} // str
		if id%2 == 0 {
			p = []byte{0xc4, 2, id, id} // bin
		}
		batch = append(batch, request(id, "Echo.Echo", p)...)
		want[string(response(id, p))] = true
	}
	if _, err := c.Write(batch); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for range want {
		got := readFrame(t, r)
		if !want[string(got)] {
			t.Fatalf("unexpected or repeated response % x", got)
		}
		delete(want, string(got))
	}
}

// TestUgorjiClient calls the peer with net/rpc's client on ugorji's spec
// codec, the client an application would use.
func TestUgorjiClient(t *testing.T) {
	c := dial(t, start(t))
	client := rpc.NewClientWithCodec(codec.MsgpackSpecRpc.ClientCodec(c, newHandle()))
	defer client.Close()

	var s string
	if err := client.Call("Echo.Echo", "hello", &s); err != nil || s != "hello" {
		t.Errorf("Echo.Echo(string): got %q, %v; want %q", s, err, "hello")
	}
	var b []byte
	in := bytes.Repeat([]byte{0, 1, 0xff}, 100_000)
	if err := client.Call("Echo.Echo", in, &b); err != nil || !bytes.Equal(b, in) {
		t.Errorf("Echo.Any([]byte): got %d bytes, %v; want %d bytes", len(b), err, len(in))
	}
	var m map[string]any
	inMap := map[string]any{"k": []any{int64(1), "two"}}
	if err := client.Call("Echo.Echo", inMap, &m); err != nil || !reflect.DeepEqual(m, inMap) {
		t.Errorf("Echo.Echo(map): got %v, %v; want %v", m, err, inMap)
	}
	if err := client.Call("echo", "x", &s); err == nil {
		t.Errorf("plain \"echo\": got no error, want net/rpc's ill-formed method error")
	}
}
