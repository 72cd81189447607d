package main

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/cocaine"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
)

// The RPC protocols call one method with one parameter, the payload: -size
// bytes of lowercase letters as a msgpack str (valid UTF-8, so that no
// server refuses it as text, and the family Cocaine peers send bytes in).
// The built-in echo answers it unchanged, and every answer is checked
// against it unless -verify=false.
//
// Requests are made once per connection from a template: -pipeline copies
// of one request whose id (msgid, channel) is written in a fixed-width
// integer, which requests patches in place. Responses are walked by an
// mpack.Walker before anything reads them (every declared length checked
// against the bytes and against maxResponse, nesting bounded), so garbage
// is a protocol error, never a crash, a large allocation or a wait for a
// frame that cannot fit; then they are read in place with mpack's readers,
// which allocate nothing.

// payload returns size bytes of lowercase letters.
func payload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

// responseLimits bound the frames a server may send: one must fit a
// connection's buffer.
var responseLimits = mpack.Limits{MaxFrame: maxResponse}

// walk finds the frame at the start of b with w.
func walk(w *mpack.Walker, b []byte) (int, error) {
	n, err := w.Walk(b)
	switch {
	case err == codec.ErrIncomplete:
		return 0, errIncomplete
	case err != nil:
		return 0, errMalformed
	}
	return n, nil
}

// isStr reports whether v is exactly one msgpack str (any width) holding
// want.
func isStr(v, want []byte) bool {
	s, rest, err := mpack.ReadStr(v)
	return err == nil && len(rest) == 0 && bytes.Equal(s, want)
}

// mrpcProto is MessagePack-RPC: request [0, msgid, method, [payload]],
// response [1, msgid, error, result]. Responses may come in any order and
// are matched by msgid, the request's number on its connection modulo
// 2^32.
type mrpcProto struct {
	verify   bool
	payload  []byte
	req      []byte // one request, its msgid a uint32 (ce + 4 bytes) at idOff
	idOff    int
	pipeline int
}

func newMsgpackRPC(method string, size, pipeline int, verify bool) *mrpcProto {
	p := &mrpcProto{verify: verify, payload: payload(size), pipeline: pipeline}
	params := mpack.AppendStrBytes(mpack.AppendArrayHeader(nil, 1), p.payload)
	// msgid MaxUint16+1 takes the uint32 form (0xce and 4 bytes, after the
	// array header and the type): patched in place per request.
	p.req = msgpackrpc.AppendRequest(nil, math.MaxUint16+1, method, params)
	p.idOff = 3
	return p
}

func (p *mrpcProto) conn() protoConn {
	c := &mrpcConn{p: p, batch: bytes.Repeat(p.req, p.pipeline)}
	c.walker.Limits = responseLimits
	return c
}

type mrpcConn struct {
	p      *mrpcProto
	batch  []byte // -pipeline requests
	next   uint64 // the number of the next request
	walker mpack.Walker
}

func (c *mrpcConn) requests(seq uint64, n int) []byte {
	size := len(c.p.req)
	for i := range n {
		binary.BigEndian.PutUint32(c.batch[i*size+c.p.idOff:], uint32(seq+uint64(i)))
	}
	c.next = seq + uint64(n)
	return c.batch[:n*size]
}

func (c *mrpcConn) parse(b []byte, r *reply) (int, error) {
	n, err := walk(&c.walker, b)
	if err != nil {
		return 0, err
	}
	k, p, err := mpack.ReadArrayHeader(b[:n])
	if err != nil || k != 4 {
		return 0, errMalformed
	}
	typ, p, err := mpack.ReadUint(p)
	if err != nil || typ != msgpackrpc.TypeResponse {
		return 0, errMalformed
	}
	id, p, err := mpack.ReadUint(p)
	if err != nil || id > math.MaxUint32 || c.next == 0 {
		return 0, errMalformed
	}
	// The request of that msgid among the last 2^32 sent; the engine
	// checks that it is in flight.
	last := c.next - 1
	*r = reply{seq: last - uint64(uint32(last)-uint32(id))}
	if !mpack.IsNil(p) {
		r.rpcErr = true // an error of any type; the result is not looked at
		return n, nil
	}
	if c.p.verify && !isStr(p[1:], c.p.payload) {
		return 0, errMalformed
	}
	return n, nil
}

// cocaineProto is Cocaine v0.12. A call is invoke [event] on a new channel,
// chunk [params] where params is the msgpack array [payload], and choke;
// channels are numbered 2, 3, … on each connection (request seq on channel
// seq+2, as cocaine-framework clients start). The answer is one chunk, then
// choke, or an error [[category, code], message] at any point before the
// choke. With -verify the chunk's data must be the params unchanged (a
// stream echo: tokamak's echo over Cocaine) or the payload itself (a unary
// echo's result), and a choke with no chunk before it is a protocol
// error; so, verified or not, are a second chunk and a message on a
// channel not in flight or of a type outside the graph. Heartbeats from the server are read and ignored; a
// terminate is taken as the server closing.
type cocaineProto struct {
	verify   bool
	payload  []byte
	req      []byte // invoke, chunk, choke: their channels uint64s (cf + 8 bytes) at chOff
	chOff    [3]int
	pipeline int
}

func newCocaine(event string, size, pipeline int, verify bool) *cocaineProto {
	p := &cocaineProto{verify: verify, payload: payload(size), pipeline: pipeline}
	params := mpack.AppendArrayHeader(nil, 1)
	params = mpack.AppendStrBytes(params, p.payload)
	const ch = math.MaxUint32 + 1 // the uint64 form, patched per request
	// Each frame starts 94 cf <channel>.
	p.chOff[0] = 2
	req := cocaine.V12.AppendInvoke(nil, ch, event)
	p.chOff[1] = len(req) + 2
	req = cocaine.V12.AppendChunk(req, ch, params)
	p.chOff[2] = len(req) + 2
	p.req = cocaine.V12.AppendChoke(req, ch)
	return p
}

func (p *cocaineProto) conn() protoConn {
	c := &cocaineConn{p: p, batch: bytes.Repeat(p.req, p.pipeline)}
	c.calls = make([]callState, windowSize(p.pipeline))
	c.mask = uint64(len(c.calls) - 1)
	c.walker.Limits = responseLimits
	return c
}

// callState is a Cocaine call in flight, in the slot of its number.
type callState struct {
	id    uint64 // seq+1 while in flight
	chunk bool   // its chunk came
}

type cocaineConn struct {
	p      *cocaineProto
	batch  []byte
	calls  []callState // as large as the engine's window, so never overwritten in flight
	mask   uint64
	walker mpack.Walker
}

func (c *cocaineConn) requests(seq uint64, n int) []byte {
	size := len(c.p.req)
	for i := range n {
		s := seq + uint64(i)
		for _, off := range c.p.chOff {
			binary.BigEndian.PutUint64(c.batch[i*size+off:], s+2)
		}
		c.calls[s&c.mask] = callState{id: s + 1}
	}
	return c.batch[:n*size]
}

func (c *cocaineConn) parse(b []byte, r *reply) (int, error) {
	n, err := walk(&c.walker, b)
	if err != nil {
		return 0, err
	}
	var msg cocaine.Message // views of b: not kept past this call
	m := &msg
	if cocaine.V12.Parse(b[:n], m) != nil {
		return 0, errMalformed
	}
	if m.Channel < 2 {
		switch {
		case m.Channel == cocaine.ControlChannel && m.Type == cocaine.TypeHeartbeat && m.NArgs == 0:
			*r = reply{none: true}
		case m.Channel == cocaine.ControlChannel && m.Type == cocaine.TypeTerminate:
			*r = reply{none: true, close: true}
		default:
			return 0, errMalformed
		}
		return n, nil
	}
	seq := m.Channel - 2
	st := &c.calls[seq&c.mask]
	if st.id != seq+1 {
		return 0, errMalformed // a channel not in flight
	}
	switch m.Type {
	case cocaine.TypeChunk:
		if m.NArgs != 1 || st.chunk {
			return 0, errMalformed
		}
		data, rest, err := mpack.ReadStrOrBin(m.Args)
		if err != nil || len(rest) != 0 || c.p.verify && !c.p.echoes(data) {
			return 0, errMalformed
		}
		st.chunk = true
		*r = reply{none: true}
	case cocaine.TypeError:
		if m.NArgs != 2 || !isCocaineError(m.Args) {
			return 0, errMalformed
		}
		*st = callState{}
		*r = reply{seq: seq, rpcErr: true}
	case cocaine.TypeChoke:
		if m.NArgs != 0 || c.p.verify && !st.chunk {
			return 0, errMalformed
		}
		*st = callState{}
		*r = reply{seq: seq}
	default:
		return 0, errMalformed
	}
	return n, nil
}

// echoes reports whether the data of an answer's chunk is the params sent
// or the payload alone.
func (p *cocaineProto) echoes(data []byte) bool {
	if len(data) > 0 && data[0] == 0x91 { // the params: [payload]
		data = data[1:]
	}
	return isStr(data, p.payload)
}

// isCocaineError reports whether args are those of an error: [category,
// code], message.
func isCocaineError(args []byte) bool {
	k, p, err := mpack.ReadArrayHeader(args)
	if err != nil || k != 2 {
		return false
	}
	for range 2 {
		if t := mpack.NextType(p); t != mpack.IntType && t != mpack.UintType {
			return false
		}
		if p, err = mpack.Skip(p); err != nil {
			return false
		}
	}
	_, p, err = mpack.ReadStrOrBin(p)
	return err == nil && len(p) == 0
}
