package main

import (
	"fmt"
	"net/url"
	"strings"
)

// A protocol is all the engines know of the bytes on a connection: how to
// write a batch of requests and how to read one response. The engines own
// sockets, buffers, clocks, timeouts, counting and the window of requests
// in flight; a protocol owns encoding, framing, checking a response and
// matching it to its request, so that each wire format (HTTP/1.1,
// MessagePack-RPC, Cocaine) is a protocol, not an engine.
type protocol interface {
	// conn returns the state of the protocol for one new connection. Only
	// the goroutine driving that connection uses it.
	conn() protoConn
}

// protoConn is a protocol's state on one connection.
type protoConn interface {
	// requests returns n requests, numbered seq, seq+1, …, seq+n-1 on this
	// connection, as one slice for one write; n is at most -pipeline, and
	// seq is the number of requests asked for before on the connection.
	// The bytes stay valid until the next call; the engine does not
	// modify them.
	requests(seq uint64, n int) []byte

	// parse reads the message at the start of b into r and returns the
	// bytes it takes, errIncomplete when b ends inside it, or errMalformed
	// for bytes that are not a message of the protocol or a wrong answer.
	// After errIncomplete the next call is given the same message grown (b
	// starts with the same bytes), so that a protocol may resume where it
	// stopped. It sets r.seq to the number of the request answered, which
	// lets a protocol whose responses come out of order (matched by id or
	// channel) say which one it was; the engine checks that this request
	// is in flight. It does not keep b.
	parse(b []byte, r *reply) (int, error)
}

// reply is what a protocol reports of one message.
type reply struct {
	seq    uint64 // the request answered, as numbered by requests
	status int    // HTTP: 100–999, counted per value and checked against -expect; RPC: 0
	rpcErr bool   // an RPC answered with an error: counted, as an error of kind rpc
	none   bool   // a message that answers no request (a Cocaine chunk before its choke, a heartbeat)
	close  bool   // the server closes the connection after this message
}

// window tracks the requests in flight on one connection by number: slot
// seq mod its size holds request seq from its write to its answer. Its
// size is a power of two of at least twice -pipeline, so a server that
// answers out of order may hold back a request while others pass it; a
// request is not sent while the one a window's size before it is still in
// flight. A response to a request not in flight (never sent, or already
// answered) is caught here, whatever its protocol.
type window struct {
	slots []slot
	mask  uint64
}

// slot is one request in flight; times in ns since the engine's clock base.
type slot struct {
	id   uint64 // seq+1 while the request is in flight; 0 when the slot is free
	sent int64  // when it was written
	due  int64  // when the schedule wanted it written (-rate)
}

// windowSize is the number of slots for -pipeline requests in flight.
func windowSize(pipeline int) int {
	n := 2
	for n < 2*pipeline {
		n <<= 1
	}
	return n
}

// newWindow returns a window over slots, whose length is a windowSize.
func newWindow(slots []slot) window { return window{slots: slots, mask: uint64(len(slots) - 1)} }

func (w *window) free(seq uint64) bool { return w.slots[seq&w.mask].id == 0 }

func (w *window) put(seq uint64, sent, due int64) {
	w.slots[seq&w.mask] = slot{id: seq + 1, sent: sent, due: due}
}

// take frees the slot of request seq and returns it, or reports that seq
// is not in flight.
func (w *window) take(seq uint64) (slot, bool) {
	s := &w.slots[seq&w.mask]
	if s.id != seq+1 {
		return slot{}, false
	}
	v := *s
	s.id = 0
	return v, true
}

func (w *window) reset() { clear(w.slots) }

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
