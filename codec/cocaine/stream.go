package cocaine

import (
	"sync/atomic"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// sender is the [handlers.Sender] of one call of a stream handler. The
// loop has one, bound to a session, a flow and a channel for the length of
// the call, and unbound after it: a handler that kept it would find every
// method doing nothing.
type sender struct {
	s  *session
	f  *codec.Flow // nil while unbound, or when nothing can be sent
	ch *channel
}

func (t *sender) bind(s *session, f *codec.Flow, ch *channel) *sender {
	t.s, t.f, t.ch = s, f, ch
	if ch.kept != nil {
		ch.kept.inCall.Store(true)
	}
	return t
}

func (t *sender) unbind() {
	if t.ch != nil && t.ch.kept != nil {
		t.ch.kept.inCall.Store(false)
	}
	t.s, t.f, t.ch = nil, nil, nil
}

// open reports whether the handler's direction is open for sending.
func (t *sender) open() bool { return t.f != nil && t.ch.st&stOurs != 0 }

// Write sends data as one chunk; data is copied into the output. Once the
// direction is kept, the chunk goes behind the kept writer's, without
// waiting: this is the loop.
func (t *sender) Write(data []byte) {
	if !t.open() {
		return
	}
	v, id := t.s.c.ver, t.ch.id
	if k := t.ch.kept; k != nil {
		_ = k.out.Append(false, func(q []byte) []byte { return v.AppendChunk(q, id, data) })
		return
	}
	t.f.Out = v.AppendChunk(t.f.Out, id, data)
}

// Error ends the handler's direction with an error.
func (t *sender) Error(category, code int, msg string) {
	if !t.open() {
		return
	}
	v, id := t.s.c.ver, t.ch.id
	if k := t.ch.kept; k != nil {
		_ = k.out.End(false, func(q []byte) []byte { return v.AppendError(q, id, category, code, msg) })
		return
	}
	t.f.Out = v.AppendError(t.f.Out, id, category, code, msg)
	t.ch.st &^= stOurs
}

// Close ends the handler's direction with a choke.
func (t *sender) Close() {
	if !t.open() {
		return
	}
	v, id := t.s.c.ver, t.ch.id
	if k := t.ch.kept; k != nil {
		_ = k.out.End(false, func(q []byte) []byte { return v.AppendChoke(q, id) })
		return
	}
	t.f.Out = v.AppendChoke(t.f.Out, id)
	t.ch.st &^= stOurs
}

// Closed reports whether the handler's direction has ended (or the
// Sender is used outside its call).
func (t *sender) Closed() bool {
	if !t.open() {
		return true
	}
	if k := t.ch.kept; k != nil {
		return k.out.Closed()
	}
	return false
}

// Keep hands the direction to a kept writer (see [handlers.Sender]).
func (t *sender) Keep() handlers.StreamWriter {
	if t.s == nil || t.ch.st&stOurs == 0 {
		return closedKept
	}
	if t.ch.kept != nil {
		return t.ch.kept
	}
	s, id := t.s, t.ch.id
	k := &kept{ver: s.c.ver, id: id}
	k.inCall.Store(true) // unbind clears it
	k.out = codec.NewOutbox(s.conn, 0, func(f *codec.Flow) { s.keptEnded(f, id) })
	t.ch.kept = k
	s.kept++
	return k
}

// kept is a stream's direction kept past the handler's call: its messages
// reach the loop through an Outbox.
type kept struct {
	out *codec.Outbox
	ver Version
	id  uint64
	// inCall is set while a handler call of the stream runs on the loop:
	// the writer used there must not wait for the loop.
	inCall atomic.Bool
}

// closedKept is what Keep gives for a direction that has ended.
var closedKept = func() *kept {
	k := &kept{out: codec.NewOutbox(nil, 0, nil)}
	k.out.Abandon()
	return k
}()

func (k *kept) Write(data []byte) error {
	return k.out.Append(!k.inCall.Load(), func(q []byte) []byte { return k.ver.AppendChunk(q, k.id, data) })
}

func (k *kept) Error(category, code int, msg string) error {
	return k.out.End(!k.inCall.Load(), func(q []byte) []byte { return k.ver.AppendError(q, k.id, category, code, msg) })
}

func (k *kept) Close() error {
	return k.out.End(!k.inCall.Load(), func(q []byte) []byte { return k.ver.AppendChoke(q, k.id) })
}

func (k *kept) Done() <-chan struct{} { return k.out.Done() }

// keptEnded runs on the loop once the last message of a kept direction is
// in the output: the direction is closed, and the channel ends if the
// peer's has.
func (s *session) keptEnded(f *codec.Flow, id uint64) {
	ch := s.find(id)
	if ch == nil || ch.kept == nil {
		return
	}
	ch.kept = nil
	s.kept--
	ch.st &^= stOurs
	if ch.st&stPeer == 0 {
		s.remove(ch)
	}
	s.settle(f, false, false)
}

// Conn returns the connection, or nil outside the call.
func (t *sender) Conn() handlers.Conn {
	if t.s == nil {
		return nil
	}
	return t.s.conn
}

// What deliver delivers.
const (
	opChunk = iota
	opError
	opClose
)

// openStream calls h.OpenStream with its panic recovered.
func openStream(h handlers.StreamHandler, tx handlers.Sender, event []byte) (rx handlers.Receiver, p any) {
	defer func() { p = recover() }()
	return h.OpenStream(tx, event), nil
}

// deliver calls one method of rx with its panic recovered.
func deliver(rx handlers.Receiver, tx handlers.Sender, op int, data []byte, category, code int) (p any) {
	defer func() { p = recover() }()
	switch op {
	case opChunk:
		rx.Chunk(tx, data)
	case opError:
		rx.Error(tx, category, code, data)
	default:
		rx.Close(tx)
	}
	return nil
}

// openStream opens channel id for the stream handler h.
func (s *session) openStream(f *codec.Flow, id uint64, h handlers.StreamHandler, event []byte) {
	ch := s.add(id, stOurs|stPeer)
	tx := s.l.tx.bind(s, f, ch)
	rx, p := openStream(h, tx, event)
	s.l.tx.unbind()
	if p != nil {
		s.panicked(f, ch, p)
		return
	}
	if rx == nil {
		// Done at once: the peer's messages are dropped. A kept direction
		// keeps the channel open until it ends.
		if ch.kept != nil {
			ch.st &^= stPeer
			return
		}
		s.closeOurs(f, ch, 0, nil)
		s.remove(ch)
		return
	}
	ch.rx = rx
}

// streamChunk hands a chunk of the peer to the stream's handler.
func (s *session) streamChunk(f *codec.Flow, ch *channel, data []byte) {
	tx := s.l.tx.bind(s, f, ch)
	p := deliver(ch.rx, tx, opChunk, data, 0, 0)
	s.l.tx.unbind()
	if p != nil {
		s.panicked(f, ch, p)
	}
}

// peerEnd ends the peer's direction of ch with its choke, or its error
// (isErr). A stream handler hears of it; a unary call runs on a choke and
// is abandoned on an error. Then the channel ends: our direction, if the
// handler left it open, is closed with a choke, or with an error of code
// fault when fault is not 0 (the peer's message was out of place).
func (s *session) peerEnd(f *codec.Flow, ch *channel, isErr bool, category, code int, msg []byte, fault int) {
	ch.st &^= stPeer
	if ch.st&stUnary != 0 {
		if isErr {
			s.closeOurs(f, ch, fault, msg)
			s.remove(ch)
			return
		}
		s.call(f, ch)
		return
	}
	op := opClose
	if isErr {
		op = opError
	}
	tx := s.l.tx.bind(s, f, ch)
	p := deliver(ch.rx, tx, op, msg, category, code)
	s.l.tx.unbind()
	if p != nil {
		s.panicked(f, ch, p)
		return
	}
	if k := ch.kept; k != nil {
		// The handler answers on: the channel ends with its direction,
		// unless the peer's message was out of place.
		if fault != 0 {
			v, id := s.c.ver, ch.id
			_ = k.out.End(false, func(q []byte) []byte { return appendError(v, q, id, Category, fault, msg) })
		}
		return
	}
	s.closeOurs(f, ch, fault, msg)
	s.remove(ch)
}

// closeOurs closes our direction of ch if it is open: with a choke, or an
// error of code fault and msg when fault is not 0.
func (s *session) closeOurs(f *codec.Flow, ch *channel, fault int, msg []byte) {
	if ch.st&stOurs == 0 {
		return
	}
	ch.st &^= stOurs
	if fault != 0 {
		f.Out = appendError(s.c.ver, f.Out, ch.id, Category, fault, msg)
		return
	}
	f.Out = s.c.ver.AppendChoke(f.Out, ch.id)
}

// panicked answers a handler's panic: logged and counted, the channel ends
// with an internal error (if our direction is still open) and the peer's
// later messages on it are dropped. The connection goes on.
func (s *session) panicked(f *codec.Flow, ch *channel, p any) {
	f.Panics++
	s.c.log.Error("cocaine: stream handler panicked", "panic", p, "channel", ch.id,
		"remote", s.conn.RemoteAddr())
	s.fail(f, ch, handlers.CodeInternal, []byte(msgInternal))
}
