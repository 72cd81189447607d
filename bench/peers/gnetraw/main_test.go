package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

func TestServe(t *testing.T) {
	req := "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name, in string
		want     [][]byte
		consumed int
	}{
		{"one", req, [][]byte{plaintextRes}, len(req)},
		{"pipelined", req + "GET /json HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
			[][]byte{plaintextRes, jsonRes, notFoundRes}, len(req) + len("GET /json HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\n\r\n")},
		{"partial", req + "GET /js", [][]byte{plaintextRes}, len(req)},
		{"nothing whole", "GET /plaintext HTTP/1.1\r\n", nil, 0},
		{"prefix is not the path", "GET /plaintextX HTTP/1.1\r\n\r\n", [][]byte{notFoundRes}, len("GET /plaintextX HTTP/1.1\r\n\r\n")},
	} {
		out, n := serve(nil, []byte(tc.in))
		if want := bytes.Join(tc.want, nil); !bytes.Equal(out, want) || n != tc.consumed {
			t.Errorf("%s: got %q, %d; want %q, %d", tc.name, out, n, want, tc.consumed)
		}
	}
	if !strings.HasSuffix(string(plaintextRes), "\r\n\r\nHello, World!") || !strings.Contains(string(jsonRes), "Content-Length: 27\r\n") {
		t.Errorf("prebuilt responses: %q %q", plaintextRes, jsonRes)
	}
}

// The responder through gnet, with a real client and pipelined requests.
func TestLive(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	s := &server{addr: addr, ready: make(chan gnet.Engine, 1)}
	errc := make(chan error, 1)
	go func() { errc <- gnet.Run(s, "tcp://"+addr, gnet.WithLogLevel(logging.ErrorLevel)) }()
	var eng gnet.Engine
	select {
	case eng = <-s.ready:
	case err := <-errc:
		t.Fatal(err)
	}
	defer eng.Stop(context.Background())

	res, err := http.Get("http://" + addr + "/json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != `{"message":"Hello, World!"}` {
		t.Errorf("GET /json: %d %q", res.StatusCode, b)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(c, strings.Repeat(req, 16))
	want := bytes.Repeat(plaintextRes, 16)
	got := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Errorf("16 pipelined: %v, got %d bytes", err, len(got))
	}
}
