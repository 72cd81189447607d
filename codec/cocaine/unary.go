package cocaine

import (
	"strconv"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

// A unary method over a channel: invoke(name), at most one chunk whose
// data is the msgpack params array, choke. The answer is one chunk whose
// data is the msgpack result, then a choke; or an error. The codec holds
// the name and the chunk (copied: they come in different frames) until the
// choke.

var (
	emptyParams = []byte{0x90} // no chunk before the choke: params []
	nilResult   = []byte{0xc0} // a method that set no result answers nil
)

// openUnary opens channel id for the unary method m called event.
func (s *session) openUnary(f *codec.Flow, id uint64, m handlers.Method, event []byte) {
	if s.held+len(event) > s.c.opt.MaxBuffered {
		s.overBuffered(f, id)
		return
	}
	ch := s.add(id, stOurs|stPeer|stUnary)
	ch.m = m
	ch.buf = append(s.l.takeBuf(), event...)
	ch.name = len(event)
	s.held += len(event)
}

// unaryChunk keeps the params chunk of a call.
func (s *session) unaryChunk(f *codec.Flow, ch *channel, data []byte) {
	if ch.st&stChunk != 0 {
		f.Errors++
		s.fail(f, ch, handlers.CodeBadParams, []byte(msgOneChunk))
		return
	}
	if s.held+len(data) > s.c.opt.MaxBuffered {
		id := ch.id
		s.remove(ch)
		s.overBuffered(f, id)
		return
	}
	ch.buf = append(ch.buf, data...)
	s.held += len(data)
	ch.st |= stChunk
}

// overBuffered answers a call that would hold more bytes than MaxBuffered.
func (s *session) overBuffered(f *codec.Flow, id uint64) {
	f.Errors++
	var b [96]byte
	msg := append(strconv.AppendInt(append(b[:0], msgBuffered...), int64(s.c.opt.MaxBuffered), 10), ')')
	f.Out = appendError(s.c.ver, f.Out, id, Category, handlers.CodeBusy, msg)
}

// call runs the method of ch, whose params are complete: on the loop, or
// on the offload pool for a blocking method.
func (s *session) call(f *codec.Flow, ch *channel) {
	name, params := ch.buf[:ch.name], emptyParams
	if ch.st&stChunk != 0 {
		params = ch.buf[ch.name:]
	}
	if !s.oneArray(params) {
		f.Errors++
		s.fail(f, ch, handlers.CodeBadParams, []byte(msgParams))
		return
	}
	if handlers.MethodBlocks(ch.m) {
		s.offload(f, ch, name, params)
		return
	}
	l := s.l
	w, c := &l.reply, &l.call
	w.Reset()
	c.Method, c.Params, c.Conn = name, params, s.conn
	p := rpccall.Serve(ch.m, w, c)
	c.Method, c.Params, c.Conn = nil, nil, nil
	s.answer(f, ch.id, name, w, p)
	w.Shrink()
	s.remove(ch)
}

// oneArray reports whether params is exactly one msgpack array within the
// frame limits: the chunk's data is opaque bytes that no Walker has seen.
func (s *session) oneArray(params []byte) bool {
	if mpack.NextType(params) != mpack.ArrayType {
		return false
	}
	n, err := mpack.Walk(params, s.c.lim) // allocates only the error of bad params
	return err == nil && n == len(params)
}

// offload runs the blocking method of ch on the pool; the channel waits
// for the answer with its buffer released (Offload copies name and
// params). A full pool is answered busy at once.
func (s *session) offload(f *codec.Flow, ch *channel, name, params []byte) {
	id, method := ch.id, string(name)
	s.pending++ // before Offload: done runs on this loop, but need not wait for us
	ok := s.pending <= rpccall.MaxPending && rpccall.Offload(s.c.pool, s.conn, ch.m, name, params,
		func(f *codec.Flow, w *handlers.Reply, p any) { s.offloaded(f, id, method, w, p) })
	if !ok {
		s.pending--
		f.Errors++
		s.fail(f, ch, handlers.CodeBusy, []byte(msgBusy))
		return
	}
	s.held -= len(ch.buf)
	s.l.giveBuf(ch.buf)
	ch.buf, ch.name = nil, 0
	ch.st |= stRunning
}

// offloaded delivers the answer of an offloaded call, on the loop.
func (s *session) offloaded(f *codec.Flow, id uint64, method string, w *handlers.Reply, p any) {
	s.pending--
	if ch := s.find(id); ch != nil {
		s.answer(f, id, []byte(method), w, p)
		s.remove(ch)
	}
	s.settle(f, false, false)
}

// answer sends the reply of a call that ran: the result as one chunk and a
// choke, or the error.
func (s *session) answer(f *codec.Flow, id uint64, name []byte, w *handlers.Reply, p any) {
	if p != nil {
		f.Panics++
		s.c.log.Error("cocaine: method panicked", "method", string(name), "panic", p,
			"remote", s.conn.RemoteAddr())
	}
	v := s.c.ver
	if code, msg, failed := w.Err(); failed {
		f.Out = appendError(v, f.Out, id, Category, code, msg)
		return
	}
	res := w.Result()
	if len(res) == 0 {
		res = nilResult
	}
	f.Out = v.AppendChoke(v.AppendChunk(f.Out, id, res), id)
}
