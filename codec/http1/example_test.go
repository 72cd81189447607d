package http1_test

import (
	"errors"
	"fmt"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/handlers"
)

func ExampleParser_ParseHead() {
	p := http1.NewParser(codec.Limits{})
	req := &handlers.Request{Headers: make([]handlers.Header, 0, p.Limits().MaxHeaders)}
	var h http1.Head

	buf := []byte("POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\n")
	_, err := p.ParseHead(buf, req, &h)
	fmt.Println(err == codec.ErrIncomplete)

	// More bytes arrive in the same buffer; the parser goes on where it
	// stopped.
	buf = append(buf, "Content-Length: 5\r\n\r\nhello"...)
	n, err := p.ParseHead(buf, req, &h)
	fmt.Println(n, err)
	fmt.Printf("%s %s %s host=%s length=%d\n", req.Method, req.Path, req.Query, req.Host, h.ContentLength)
	fmt.Printf("body %q\n", buf[n:n+int(h.ContentLength)])
	// Output:
	// true
	// 67 <nil>
	// POST /upload x=1 host=example.com length=5
	// body "hello"
}

func ExampleParser_ParseHead_error() {
	p := http1.NewParser(codec.Limits{})
	var req handlers.Request
	var h http1.Head
	_, err := p.ParseHead([]byte("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), &req, &h)
	var e *http1.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Msg, e.Offset)
	}
	// Output:
	// 400 whitespace before colon 20
}

func ExampleParser_ParseChunked() {
	p := http1.NewParser(codec.Limits{})
	req := &handlers.Request{Trailers: make([]handlers.Header, 0, 4)}
	var c http1.Chunked
	buf := []byte("5\r\nhello\r\n6;lang=en\r\n world\r\n0\r\nDigest: x\r\n\r\nnext")
	n, err := p.ParseChunked(buf, req, &c)
	fmt.Println(n, err)
	fmt.Printf("%q %s=%s\n", req.Body, req.Trailers[0].Name, req.Trailers[0].Value)
	fmt.Printf("%q\n", buf[n:])
	// Output:
	// 45 <nil>
	// "hello world" Digest=x
	// "next"
}
