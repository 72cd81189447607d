package main

import (
	"fmt"
	"net/url"
	"strings"
)

// A protocol is all the engines know of the bytes on a connection: how to
// write a batch of requests and how to read one response. The engines own
// sockets, buffers, clocks, timeouts and counting; a protocol owns
// encoding, framing and matching a response to its request, so another
// wire format (MessagePack-RPC, Cocaine) is another protocol, not another
// engine.
type protocol interface {
	// conn returns the state of the protocol for one new connection. Only
	// the goroutine driving that connection uses it.
	conn() protoConn
}

// protoConn is a protocol's state on one connection.
type protoConn interface {
	// requests returns n requests, numbered seq, seq+1, …, seq+n-1 on this
	// connection, as one slice for one write. The bytes stay valid until
	// the next call; the engine does not modify them.
	requests(seq uint64, n int) []byte

	// parse reads the response at the start of b into r and returns the
	// bytes it takes, errIncomplete when b ends inside it, or errMalformed.
	// It sets r.seq to the number of the request answered, which lets a
	// protocol whose responses come out of order (matched by id or
	// channel) say which one it was. It does not keep b.
	parse(b []byte, r *reply) (int, error)
}

// reply is what a protocol reports of one response.
type reply struct {
	seq    uint64 // the request answered, as numbered by requests
	status int    // 100–999, counted per value and checked against -expect
	close  bool   // the server closes the connection after this response
}

// httpProto is HTTP/1.1 with one fixed request. Responses come in request
// order, so a connection numbers them as they arrive.
type httpProto struct {
	head  bool   // HEAD requests: responses have no body
	size  int    // bytes of one request
	batch []byte // the request, repeated for the deepest batch
}

func newHTTP(method string, u *url.URL, headers []string, body string, pipeline int) *httpProto {
	req := buildRequest(method, u, headers, body)
	return &httpProto{
		head:  method == "HEAD",
		size:  len(req),
		batch: []byte(strings.Repeat(string(req), pipeline)),
	}
}

func buildRequest(method string, u *url.URL, headers []string, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s\r\n", h)
	}
	if body != "" || method == "POST" || method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

func (p *httpProto) conn() protoConn { return &httpConn{p: p} }

type httpConn struct {
	p    *httpProto
	next uint64 // the number of the next response
}

// requests returns a prefix of the shared batch: every request is the same
// and nothing writes the batch, so connections share it.
func (c *httpConn) requests(_ uint64, n int) []byte { return c.p.batch[:n*c.p.size] }

func (c *httpConn) parse(b []byte, r *reply) (int, error) {
	var res response
	n, err := parseResponse(b, c.p.head, &res)
	if err != nil {
		return 0, err
	}
	*r = reply{seq: c.next, status: res.status, close: res.close}
	c.next++
	return n, nil
}
