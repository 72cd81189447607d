package cocaine

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// The messages of the errors the codec answers on a channel.
const (
	msgUnknown     = "unknown event "
	msgChannels    = "too many open channels on this connection (limit "
	msgBuffered    = "too many bytes buffered on this connection (limit "
	msgOneChunk    = "a method takes one chunk of params"
	msgParams      = "the params are not one msgpack array"
	msgBusy        = "busy: the offload pool is full"
	msgOutOfPlace  = "message type out of place on this channel: "
	msgInternal    = "internal error"
	msgInterrupted = "the connection closed"
	msgTimeout     = "timed out: the peer's messages did not come in time, nor at the minimum rate"
	msgOverload    = "busy: the server holds too much partial input; try again later"
)

// session is the state of one connection: the partial frame's Walker, the
// open channels and the highest channel id seen. An idle connection holds
// no table and no Walker.
type session struct {
	c       *Codec
	l       *loop
	conn    codec.Conn
	fr      mpack.Framer
	chans   []channel // open channels by increasing id, and removed ones; nil when none open
	live    int       // open channels in chans
	maxID   uint64    // the highest channel id opened or refused
	held    int       // bytes held in the params buffers of unary calls
	pending int32     // offloaded calls not yet answered
	kept    int32     // channels whose direction a handler kept and has not ended
	broken  bool      // a frame was refused: close once pending is 0
	closed  bool      // Close was called
}

// channel is one open channel. A channel whose peer direction ended is
// kept only while an offloaded call runs for it: a stream channel is
// removed when the peer ends its direction (ours is closed for the handler
// then), a unary one when it is answered.
type channel struct {
	id   uint64
	rx   handlers.Receiver // stream: where the peer's messages go
	kept *kept             // stream: our direction, kept by the handler
	m    handlers.Method   // unary: the method
	buf  []byte            // unary: the event name, then the params chunk
	name int               // unary: the length of the name in buf
	st   uint8
}

// Channel states.
const (
	stOurs    uint8 = 1 << iota // our direction is open
	stPeer                      // the peer's direction is open
	stUnary                     // a unary method's call, not a stream
	stChunk                     // unary: the params chunk arrived
	stRunning                   // unary: on the offload pool
	stLive                      // open: an entry with st 0 is a removed channel
)

// Serve answers every complete frame at the start of in.
func (s *session) Serve(in []byte, f *codec.Flow) int {
	f.Need = 0
	if s.broken {
		// Waiting for offloaded calls before closing: nothing more is read.
		s.settle(f, false, true)
		return len(in)
	}
	off, stopped := 0, false
	for served := 0; off < len(in); served++ {
		if served > 0 && len(f.Out) >= f.Limit {
			stopped = true // backpressure: the rest waits for the peer to read
			break
		}
		n, err := s.fr.Next(&s.l.walkers, in[off:])
		if err == codec.ErrIncomplete {
			break
		}
		if err == nil {
			err = s.dispatch(in[off:off+n], f)
		}
		if err != nil {
			s.refuse(err, f)
			off = len(in)
			break
		}
		off += n
		if f.Close { // terminate: nothing after it is read
			off = len(in)
			break
		}
	}
	s.settle(f, stopped, true)
	return off
}

// settle tells the reactor where the session stands after a Serve or a
// Post (served is false), and gives back an empty channel table.
func (s *session) settle(f *codec.Flow, stopped, served bool) {
	// Kept directions are busy work: the handler answers when it will, so
	// no idle timeout runs and a drain waits for them.
	f.Busy = s.pending > 0 || s.kept > 0
	f.Need = s.fr.Need()
	f.Held = s.held
	switch {
	case s.live > int(s.pending+s.kept):
		// The peer owes messages on an open channel: its progress is
		// bounded like a request body's, partial frame or not (a phase that
		// flipped with each partial frame would restart the deadline), and
		// a drain waits for it (the drain sweep closes only idle
		// connections).
		f.Phase = codec.PhaseBody
	case s.fr.Partial() || stopped:
		f.Phase = codec.PhaseHead
	default:
		f.Phase = codec.PhaseIdle
	}
	// A broken connection waits for its offloaded calls, not for kept
	// streams, which may never end (refuse cut them). A drain closes here
	// only after a Serve, which has seen every frame buffered: after a
	// Post, frames may wait unserved — the reactor serves them next, or
	// its drain sweep closes the connection once it is idle and quiet.
	if s.pending == 0 && (s.broken || served && f.Draining && f.Phase == codec.PhaseIdle && s.kept == 0) {
		f.Close = true
	}
	if s.live == 0 && s.chans != nil {
		s.l.giveTable(s.chans)
		s.chans = nil
	}
}

// refuse handles a frame that is not a Cocaine message: the answers before
// it are in f.Out; nothing after it is read, and the connection closes once
// the offloaded calls are answered. err may point into a Walker: it is used
// before the Walker is dropped.
func (s *session) refuse(err error, f *codec.Flow) {
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("cocaine: malformed frame; closing the connection", "err", err,
			"remote", s.conn.RemoteAddr(), "pending", s.pending)
	}
	s.fr.Drop(&s.l.walkers)
	f.Errors++
	s.broken = true
	s.cutKept()
}

// cutKept ends every kept direction at once, when the connection is about
// to close: their writers need not wait for the close to learn of it.
func (s *session) cutKept() {
	for i := range s.chans {
		if ch := &s.chans[i]; ch.kept != nil {
			ch.kept.out.Abandon()
			ch.kept = nil
			ch.st &^= stOurs
			s.kept--
		}
	}
}

// dispatch serves one walked frame. It returns an error only for a frame
// that is not a well-formed message; every fault on a channel is answered
// on it.
func (s *session) dispatch(frame []byte, f *codec.Flow) error {
	var m Message
	v := s.c.ver
	if err := v.Parse(frame, &m); err != nil {
		return err
	}
	f.Requests++
	if v == V11 {
		return s.dispatch11(frame, &m, f)
	}
	switch m.Channel {
	case 0:
		return malformed(frame, 1, "channel 0 is invalid")
	case ControlChannel:
		if s.control(&m, f) {
			f.Control += len(frame) // keeps the connection alive, moves no call on
			return nil
		}
		// Not a control message: channel 1 is the first channel of
		// cocaine-framework-python and -nodejs clients.
	}
	ch := s.find(m.Channel)
	if ch == nil {
		if m.Channel <= s.maxID {
			return nil // revoked, or ended: dropped
		}
		s.maxID = m.Channel
		if m.Type != TypeInvoke {
			s.outOfPlace(f, m.Channel, m.Type)
			return nil
		}
		event, err := parseInvoke(&m)
		if err != nil {
			return malformed(frame, 0, "invoke takes [event] or [event, tag]")
		}
		s.open(f, m.Channel, event)
		return nil
	}
	return s.onChannel(frame, &m, ch, m.Type, f)
}

// control serves a v0.12 message on channel 1 if it is a control message,
// told apart from the messages of a channel 1 opened by a client by its
// arguments: heartbeat [], terminate [code, reason] (an error's first
// argument is an array), handshake [uuid] while channel 1 is not open.
func (s *session) control(m *Message, f *codec.Flow) bool {
	switch {
	case m.Type == TypeHeartbeat && m.NArgs == 0:
		f.Out = V12.AppendHeartbeat(f.Out)
		return true
	case m.Type == TypeTerminate:
		code, reason, ok := parseTerminate(m)
		if !ok {
			return false
		}
		s.terminate(f, code, reason)
		return true
	case m.Type == TypeHandshake && m.NArgs == 1 && s.find(ControlChannel) == nil:
		uuid, _, err := mpack.ReadStrOrBin(m.Args)
		return err == nil && isUUID(uuid) // accepted and ignored: we are no runtime
	}
	return false
}

// terminate answers a terminate with the same code and reason, as a
// Cocaine worker does, and closes the connection once that is sent.
func (s *session) terminate(f *codec.Flow, code int64, reason []byte) {
	f.Out = appendTerminate(s.c.ver, f.Out, code, reason)
	f.Close = true
	s.cutKept()
}

// dispatch11 serves a v0.11 message, whose type alone says what it is.
func (s *session) dispatch11(frame []byte, m *Message, f *codec.Flow) error {
	switch m.Type {
	case V11Handshake:
		f.Control += len(frame)
		return nil
	case V11Heartbeat:
		f.Out = V11.AppendHeartbeat(f.Out)
		f.Control += len(frame)
		return nil
	case V11Terminate:
		code, reason, ok := parseTerminate(m)
		if !ok {
			return malformed(frame, 0, "terminate takes [code, reason]")
		}
		s.terminate(f, code, reason)
		return nil
	case V11Invoke, V11Chunk, V11Error, V11Choke:
	default:
		return malformed(frame, 1, "unknown message type")
	}
	if m.Channel == 0 {
		return malformed(frame, 2, "session 0 carries no stream")
	}
	ch := s.find(m.Channel)
	if ch == nil {
		if m.Channel <= s.maxID {
			return nil
		}
		s.maxID = m.Channel
		if m.Type != V11Invoke {
			s.outOfPlace(f, m.Channel, m.Type)
			return nil
		}
		event, err := parseInvoke(m)
		if err != nil || m.NArgs != 1 {
			return malformed(frame, 0, "invoke takes [event]")
		}
		s.open(f, m.Channel, event)
		return nil
	}
	// The v0.12 types: chunk 0, error 1, choke 2; an invoke on an open
	// session is out of place.
	t := uint64(3)
	if m.Type != V11Invoke {
		t = m.Type - V11Chunk
	}
	return s.onChannel(frame, m, ch, t, f)
}

// onChannel serves a message on an open channel; t is its v0.12 type.
func (s *session) onChannel(frame []byte, m *Message, ch *channel, t uint64, f *codec.Flow) error {
	if ch.st&stPeer == 0 {
		return nil // the peer ended its direction; its call runs: dropped
	}
	switch t {
	case TypeChunk:
		data, err := parseChunk(m)
		if err != nil {
			return malformed(frame, 0, "chunk takes [data]")
		}
		if ch.st&stUnary != 0 {
			s.unaryChunk(f, ch, data)
		} else {
			s.streamChunk(f, ch, data)
		}
	case TypeError:
		category, code, msg, err := parseError(s.c.ver, m)
		if err != nil {
			return malformed(frame, 0, "error takes [[category, code], message]")
		}
		s.peerEnd(f, ch, true, category, code, msg, 0)
	case TypeChoke:
		s.peerEnd(f, ch, false, 0, 0, nil, 0)
	default:
		s.outOfPlace(f, ch.id, m.Type)
	}
	return nil
}

// open serves an invoke of event on the new channel id. The event is
// looked up among the stream handlers, then the unary methods, then the
// "*" fallback.
func (s *session) open(f *codec.Flow, id uint64, event []byte) {
	reg := s.c.reg
	h := reg.Stream(event)
	var m handlers.Method
	if h == nil {
		if m = reg.Method(event); m == nil {
			h = reg.StreamFallback()
		}
	}
	switch {
	case h == nil && m == nil:
		var b [96]byte
		msg := codec.AppendQuoted(append(b[:0], msgUnknown...), event) // the peer's: not echoed at full size
		f.Out = appendError(s.c.ver, f.Out, id, Category, handlers.CodeUnknownMethod, msg)
	case s.live >= s.c.opt.MaxChannels:
		f.Errors++
		var b [96]byte
		msg := append(strconv.AppendInt(append(b[:0], msgChannels...), int64(s.c.opt.MaxChannels), 10), ')')
		f.Out = appendError(s.c.ver, f.Out, id, Category, handlers.CodeBusy, msg)
	case m != nil:
		s.openUnary(f, id, m, event)
	default:
		s.openStream(f, id, h, event)
	}
}

// outOfPlace answers a message of a type the channel's state does not
// allow (a channel opened by something other than an invoke, a type
// outside the graph): an error on the channel, which ends. A stream
// handler hears of it as an error from the peer.
func (s *session) outOfPlace(f *codec.Flow, id, typ uint64) {
	f.Errors++
	var b [64]byte
	msg := strconv.AppendUint(append(b[:0], msgOutOfPlace...), typ, 10)
	ch := s.find(id)
	if ch == nil {
		f.Out = appendError(s.c.ver, f.Out, id, Category, handlers.CodeProtocol, msg)
		return
	}
	if ch.st&stUnary != 0 {
		s.fail(f, ch, handlers.CodeProtocol, msg)
		return
	}
	s.peerEnd(f, ch, true, Category, handlers.CodeProtocol, msg, handlers.CodeProtocol)
}

// fail ends a channel with an error of ours, if our direction is open, and
// removes it: later messages of the peer on it are dropped.
func (s *session) fail(f *codec.Flow, ch *channel, code int, msg []byte) {
	if k := ch.kept; k != nil {
		// The error goes behind what the kept writer queued (nothing if it
		// has ended: its queue, choke included, still goes out); the
		// channel ends with the writer's end.
		v, id := s.c.ver, ch.id
		_ = k.out.End(false, func(q []byte) []byte { return appendError(v, q, id, Category, code, msg) })
		ch.st &^= stPeer
		return
	}
	if ch.st&stOurs != 0 {
		f.Out = appendError(s.c.ver, f.Out, ch.id, Category, code, msg)
	}
	s.remove(ch)
}

// find returns the open channel id, or nil.
func (s *session) find(id uint64) *channel {
	t := s.chans
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case t[m].id < id:
			lo = m + 1
		case t[m].id > id:
			hi = m
		case t[m].st == 0:
			return nil // removed, not yet compacted away
		default:
			return &t[m]
		}
	}
	return nil
}

// add opens channel id, whose id is above every open one. Pointers to
// other channels are invalid after it.
func (s *session) add(id uint64, st uint8) *channel {
	if s.chans == nil {
		s.chans = s.l.takeTable()
	}
	s.chans = append(s.chans, channel{id: id, st: st | stLive})
	s.live++
	return &s.chans[len(s.chans)-1]
}

// remove forgets ch and releases its buffer. Its entry stays, marked
// free, keeping the table sorted by id, until free entries outnumber the
// live ones and the table is compacted: channels end in any order (often
// the oldest first), and this keeps each removal O(1) amortized. Pointers
// to channels are invalid after it.
func (s *session) remove(ch *channel) {
	if ch.kept != nil {
		ch.kept.out.Abandon() // ended by a failure: the kept writer is told
		s.kept--
	}
	if ch.buf != nil {
		s.held -= len(ch.buf)
		s.l.giveBuf(ch.buf)
	}
	*ch = channel{id: ch.id}
	s.live--
	t := s.chans
	for len(t) > 0 && t[len(t)-1].st == 0 {
		t = t[:len(t)-1]
	}
	if free := len(t) - s.live; free > s.live && free >= 8 {
		j := 0
		for i := range t {
			if t[i].st != 0 {
				t[j] = t[i]
				j++
			}
		}
		clear(t[j:])
		t = t[:j]
	}
	s.chans = t
}

// Refuse is called when a partial frame took too long (PhaseHead), the
// peer's messages on open channels did not come in time nor at the
// minimum rate (PhaseBody), the connection stayed idle, or the engine's
// input budget cannot hold the connection's input (an overload). Every
// channel that waits for the peer gets an error: CodeTimeout, or CodeBusy
// after an overload, when the calls already on the offload pool are still
// answered before the connection closes. Stream handlers hear of the end
// from Close. Only a timeout of a partial frame or a channel, and an
// overload, count as errors.
func (s *session) Refuse(r codec.Refusal, p codec.Phase, _ []byte, f *codec.Flow) {
	s.fr.Drop(&s.l.walkers)
	if r == codec.RefuseTimeout && p != codec.PhaseHead && p != codec.PhaseBody {
		return
	}
	f.Errors++
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("cocaine: refused", "reason", r, "phase", p, "channels", s.live,
			"remote", s.conn.RemoteAddr())
	}
	code, msg := handlers.CodeTimeout, []byte(msgTimeout)
	if r == codec.RefuseOverload {
		code, msg = handlers.CodeBusy, []byte(msgOverload)
	}
	s.cutKept()
	for i := range s.chans {
		ch := &s.chans[i]
		if ch.st&stLive == 0 || ch.st&stPeer == 0 || r == codec.RefuseOverload && ch.st&stRunning != 0 {
			continue // ended by the peer, or running: answered when done
		}
		if ch.st&stOurs != 0 {
			f.Out = appendError(s.c.ver, f.Out, ch.id, Category, code, msg)
			ch.st &^= stOurs
		}
		if ch.buf != nil { // the params will never be complete
			s.held -= len(ch.buf)
			s.l.giveBuf(ch.buf)
			ch.buf = nil
		}
	}
	s.broken = true // nothing more is read; close once the running calls are answered
	s.settle(f, false, false)
}

// Close releases the connection. The stream handlers whose peer direction
// is still open get an error ([CodeDisconnected]) so that they are done
// with their streams; their Sender does nothing. Answers of offloaded calls
// still running are dropped by the reactor, unrun.
func (s *session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	s.fr.Drop(&s.l.walkers)
	for i := range s.chans {
		ch := &s.chans[i]
		if ch.kept != nil {
			ch.kept.out.Abandon()
		}
		if ch.rx != nil && ch.st&stPeer != 0 {
			ch.st &^= stOurs
			tx := s.l.tx.bind(s, nil, ch)
			p := deliver(ch.rx, tx, opError, []byte(msgInterrupted), Category, CodeDisconnected)
			s.l.tx.unbind()
			if p != nil {
				s.c.log.Error("cocaine: stream handler panicked", "panic", p, "channel", ch.id,
					"remote", s.conn.RemoteAddr())
			}
		}
		if ch.buf != nil {
			s.l.giveBuf(ch.buf)
		}
	}
	if s.chans != nil {
		clear(s.chans)
		s.l.giveTable(s.chans)
		s.chans, s.live, s.held, s.kept = nil, 0, 0, 0
	}
}
