package msgpackrpc

import (
	"context"
	"log/slog"
	"math"
	"strconv"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/rpccall"
)

// Error messages of the responses the codec itself makes.
const (
	errBusy       = "busy"
	errParams     = "params are not an array"
	errMethodType = "method is not a string"
	errUnknown    = "unknown method " // followed by the quoted name
	errTimeout    = "timed out: the request did not arrive whole in time"
	errOverload   = "busy: the server holds too much partial input; try again later"
)

// session is the state of one connection: a partly received frame's walk,
// if any, and the count of calls on the offload pool. Everything else lives
// in the loop's scratch space.
type session struct {
	c       *Codec
	l       *loop
	conn    codec.Conn
	fr      mpack.Framer // the walk of a partly received frame
	pending int          // offloaded calls whose answer has not come back
	left    bool         // the last Serve left input unconsumed
	broken  bool         // a malformed frame came: close once pending is 0
}

// Serve answers every complete frame at the start of in: non-blocking calls
// in order, in f.Out; blocking ones later, through Post.
func (s *session) Serve(in []byte, f *codec.Flow) int {
	if s.broken {
		// Nothing after a malformed frame is read; only the answers of the
		// calls made before it are awaited.
		s.settle(f)
		return len(in)
	}
	f.Need, f.Phase = 0, codec.PhaseIdle
	s.left = false
	off := 0
	for served := 0; off < len(in); served++ {
		if served > 0 && len(f.Out) >= f.Limit {
			// Backpressure. The frames left wait for the peer to read; the
			// header timeout runs meanwhile, as for a partial frame.
			f.Phase = codec.PhaseHead
			s.left = true
			break
		}
		n, err := s.fr.Next(&s.l.walkers, in[off:])
		if err == codec.ErrIncomplete {
			// The next Serve resumes this walk: it gets the same bytes, and
			// more, at the start of its input.
			f.Phase = codec.PhaseHead
			s.left = true
			break
		}
		if err != nil {
			s.refuse(err, f)
			off = len(in)
			break
		}
		frame := in[off : off+n]
		off += n
		if err := s.dispatch(frame, f); err != nil {
			s.refuse(err, f)
			off = len(in)
			break
		}
	}
	s.settle(f)
	return off
}

// settle tells the reactor where the session stands after a Serve or a
// Post: busy while calls are pending, and done once nothing more is due
// from a broken or draining connection.
func (s *session) settle(f *codec.Flow) {
	f.Busy = s.pending > 0
	if s.fr.Partial() {
		f.Need = s.fr.Need() // the partial frame starts the unconsumed input
	}
	// While draining, every frame received is answered: a partial one is
	// waited for (within the header timeout), so close only when none is.
	if s.pending == 0 && (s.broken || f.Draining && !s.left) {
		f.Close = true
	}
}

// release gives back the Walker of a partial frame, once the frame can
// never be complete.
func (s *session) release() { s.fr.Drop(&s.l.walkers) }

// refuse handles a malformed frame: the answers before it are in f.Out;
// nothing after it is read, and the connection closes once the pending
// calls are answered. err may point into a Walker: use it before release.
func (s *session) refuse(err error, f *codec.Flow) {
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("msgpackrpc: malformed frame; closing the connection", "err", err,
			"remote", s.conn.RemoteAddr(), "pending", s.pending)
	}
	s.release()
	f.Errors++
	f.Phase = codec.PhaseIdle
	s.left = false
	s.broken = true
}

// dispatch serves one walked frame. It returns an error only when the frame
// is not a request or notification; every fault of a call is answered.
func (s *session) dispatch(frame []byte, f *codec.Flow) error {
	var m message
	if err := parseMessage(frame, &m); err != nil {
		return err
	}
	f.Requests++
	name, _, err := mpack.ReadStrOrBin(m.method)
	if err != nil {
		s.fault(f, &m, nil, handlers.CodeProtocol, errMethodType)
		return nil
	}
	if mpack.NextType(m.params) != mpack.ArrayType {
		s.fault(f, &m, name, handlers.CodeBadParams, errParams)
		return nil
	}
	meth := s.c.reg.Method(name)
	switch {
	case meth == nil:
		s.unknown(f, &m, name)
	case handlers.MethodBlocks(meth):
		s.offload(f, &m, meth, name)
	default:
		l := s.l
		w, c := &l.reply, &l.call
		w.Reset()
		c.Method, c.Params, c.Conn = name, m.params, s.conn
		p := rpccall.Serve(meth, w, c)
		c.Method, c.Params, c.Conn = nil, nil, nil
		s.answer(f, m.typ, m.msgid, name, w, p)
		w.Shrink()
	}
	return nil
}

// fault answers a call the peer got wrong (a protocol error, counted) with
// an error response; a notification only gets a log line.
func (s *session) fault(f *codec.Flow, m *message, name []byte, code int, msg string) {
	f.Errors++
	if m.typ == TypeRequest {
		f.Out = AppendError(f.Out, m.msgid, msg)
		return
	}
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("msgpackrpc: notification refused", "method", string(name), "code", code,
			"err", msg, "remote", s.conn.RemoteAddr())
	}
}

// unknown answers a call of a method that is not registered.
func (s *session) unknown(f *codec.Flow, m *message, name []byte) {
	if m.typ == TypeRequest {
		var b [96]byte
		msg := codec.AppendQuoted(append(b[:0], errUnknown...), name) // the peer's: not echoed at full size
		f.Out = appendErrorBytes(f.Out, m.msgid, msg)
		return
	}
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("msgpackrpc: notification of an unknown method", "method", string(name),
			"remote", s.conn.RemoteAddr())
	}
}

// offloaded is a call running on the offload pool.
type offloaded struct {
	s      *session
	typ    uint64
	msgid  uint32
	method []byte // a copy, for the log line of a panic
}

// offload hands a blocking method to the pool, or answers "busy" at once.
func (s *session) offload(f *codec.Flow, m *message, meth handlers.Method, name []byte) {
	o := &offloaded{s: s, typ: m.typ, msgid: m.msgid, method: append([]byte(nil), name...)}
	s.pending++ // before Offload: done may only run on this loop, but need not
	if s.pending <= rpccall.MaxPending && rpccall.Offload(s.c.pool, s.conn, meth, name, m.params, o.done) {
		return
	}
	s.pending--
	if m.typ == TypeRequest {
		f.Out = AppendError(f.Out, m.msgid, errBusy)
		return
	}
	if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("msgpackrpc: notification dropped: the offload pool is full", "method", string(name),
			"remote", s.conn.RemoteAddr())
	}
}

// done delivers the answer of an offloaded call, on the connection's loop.
func (o *offloaded) done(f *codec.Flow, w *handlers.Reply, panicked any) {
	s := o.s
	s.pending--
	s.answer(f, o.typ, o.msgid, o.method, w, panicked)
	s.settle(f)
}

// answer sends the reply of a call that ran: a request's response; for a
// notification, at most a log line.
func (s *session) answer(f *codec.Flow, typ uint64, msgid uint32, name []byte, w *handlers.Reply, panicked any) {
	if panicked != nil {
		f.Panics++
		s.c.log.Error("msgpackrpc: method panicked", "method", string(name), "panic", panicked,
			"remote", s.conn.RemoteAddr())
	}
	if typ == TypeRequest {
		f.Out = appendReply(f.Out, msgid, w)
		return
	}
	if code, msg, failed := w.Err(); failed {
		if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("msgpackrpc: notification failed", "method", string(name), "code", code,
				"err", string(msg), "remote", s.conn.RemoteAddr())
		}
	}
}

// appendReply appends the response to a call that ran.
func appendReply(dst []byte, msgid uint32, w *handlers.Reply) []byte {
	code, msg, failed := w.Err()
	if !failed {
		return AppendResult(dst, msgid, w.Result())
	}
	if len(msg) == 0 {
		// An empty error string reads as success to net/rpc clients.
		var b [32]byte
		msg = strconv.AppendInt(append(b[:0], "error "...), int64(code), 10)
	}
	return appendErrorBytes(dst, msgid, msg)
}

// Refuse ends a connection whose frame did not arrive in time, that stayed
// idle, or whose partial frame the engine's input budget cannot hold. A
// partial request whose msgid has arrived gets an error response (the
// rest of the frame will never be read); nothing else can be answered
// without a msgid. After an overload the calls on the offload pool are
// answered before the connection closes.
func (s *session) Refuse(r codec.Refusal, p codec.Phase, in []byte, f *codec.Flow) {
	partial := s.fr.Partial()
	s.release()
	f.Phase, s.left = codec.PhaseIdle, false
	if partial {
		f.Errors++
		msg := errTimeout
		if r == codec.RefuseOverload {
			msg = errOverload
		}
		if msgid, ok := partialMsgid(in); ok {
			f.Out = AppendError(f.Out, msgid, msg)
		}
		if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("msgpackrpc: partial frame refused", "reason", r, "phase", p, "remote", s.conn.RemoteAddr())
		}
	}
	// Nothing more is read; after an overload the pending calls finish.
	s.broken = true
	s.settle(f)
}

// partialMsgid reads the msgid of the request that starts in, a frame not
// yet complete.
func partialMsgid(in []byte) (uint32, bool) {
	// The array's elements are not all here, so its header is read by
	// hand: ReadArrayHeader wants them.
	var rest []byte
	switch {
	case len(in) >= 1 && in[0] == 0x94: // fixarray
		rest = in[1:]
	case len(in) >= 3 && string(in[:3]) == "\xdc\x00\x04": // array 16
		rest = in[3:]
	case len(in) >= 5 && string(in[:5]) == "\xdd\x00\x00\x00\x04": // array 32
		rest = in[5:]
	default:
		return 0, false
	}
	typ, rest, err := mpack.ReadUint(rest)
	if err != nil || typ != TypeRequest {
		return 0, false
	}
	id, _, err := mpack.ReadUint(rest)
	if err != nil || id > math.MaxUint32 {
		return 0, false
	}
	return uint32(id), true
}

// Close releases the connection. Answers of offloaded calls still running
// are dropped by the reactor, unrun, so there is nothing of theirs to free.
func (s *session) Close() {
	s.release()
}
