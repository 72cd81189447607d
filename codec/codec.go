package codec

import (
	"context"
	"log/slog"
	"net"

	"github.com/tokamak-io/tokamak/handlers"
)

// Codec turns the bytes of one protocol into handler calls. One Codec serves
// every listener bound to its scheme; it creates a [Session] per connection.
type Codec interface {
	// NewSession returns the state of a new connection. It is called on the
	// connection's event loop, in the connection's open callback.
	NewSession(c Conn) Session
}

// Session is the protocol state of one connection. All its methods are
// called on the connection's event loop, one at a time.
type Session interface {
	// Serve decodes every complete frame at the start of in, dispatches it to
	// its handler and appends the replies to f.Out, in order. It returns the
	// number of bytes of in it consumed; the reactor discards them after the
	// call and writes f.Out in one write.
	//
	// in is a view of the connection's inbound buffer: it stops being valid
	// when Serve returns, and so does every view made from it. The session may
	// rewrite bytes of in that it consumes (to decode a chunked body in place,
	// say), never the bytes after them.
	//
	// Serve stops early, leaving the rest of in unconsumed, when len(f.Out)
	// reaches f.Limit (backpressure: the reactor calls it again once the peer
	// has read), when it sets f.Close, or when it has handed a frame to work
	// that completes later ([Conn.Post]). A session that consumes nothing
	// because the next frame is incomplete should set f.Need.
	Serve(in []byte, f *Flow) (consumed int)

	// Refuse tells the session that the reactor ends the conversation, for
	// reason r, while the connection is in phase p: a timeout
	// ([RefuseTimeout]) or the engine's input budget ([RefuseOverload]). It
	// may append a last reply to f.Out (HTTP: 408 or 503; an RPC error for
	// the call in progress, whose id it may read from in: the first bytes
	// of the unconsumed input, at most [RefuseInput], a view valid during
	// the call). The reactor drops the unconsumed input after the call and
	// serves none after it.
	//
	// After a timeout the reactor closes the connection once the reply has
	// been sent. After an overload too, unless the session still waits for
	// work it handed off (f.Busy set, or PhaseWait): then it may leave
	// f.Close unset and close from the Post that delivers the last answer
	// — work already accepted finishes.
	Refuse(r Refusal, p Phase, in []byte, f *Flow)

	// Close is called once, when the connection has closed, to release what
	// the session holds. No method is called after it.
	Close()
}

// Conn is the connection as a codec sees it: the handler-facing
// [handlers.Conn] plus the way back onto the event loop.
type Conn interface {
	handlers.Conn
	// Post runs fn on the connection's event loop with a fresh Flow, as if it
	// were a call to Serve: the reactor writes f.Out and honours f.Close and
	// f.Phase afterwards, then serves input that waited meanwhile. Post may be
	// called from any goroutine; it reports false when the connection is
	// already closed. fn runs at most once: it is also dropped, unrun, when
	// the connection closes or starts closing before fn's turn, so whatever
	// fn would release, the session's Close must release too.
	Post(fn func(f *Flow)) bool
	// PostWritable is Post for work that adds output: fn runs once the
	// connection's buffered output is below the reactor's high-water mark —
	// at once, as a Post, when it already is; else after the peer has read
	// it down to the low-water mark. Meanwhile the connection is paused: no
	// input is served, and a peer that reads nothing for the close timeout
	// is dropped. The rest is as for Post.
	PostWritable(fn func(f *Flow)) bool
}

// Phase tells the reactor where a connection stands between two calls, and
// so which deadline applies.
//
// A frame or body in progress (PhaseHead, PhaseBody) has a deadline from
// its first byte: it must complete within the phase's timeout, or have
// received, by then and in every timeout-long window after, at least the
// reactor's minimum rate (bytes a second) of progress. Progress is the
// input that arrives, less what the session reports as control messages
// ([Flow.Control]). The deadline starts afresh when the phase changes, and
// when the session consumed input other than control messages while it
// holds nothing ([Flow.Held]): the frame or request before has completed.
type Phase uint8

const (
	// PhaseIdle: no partial frame is buffered and nothing is owed. The
	// keep-alive idle timeout runs from the moment the connection became
	// idle.
	PhaseIdle Phase = iota
	// PhaseHead: part of a frame or request head is buffered. The header
	// timeout runs from its first byte.
	PhaseHead
	// PhaseBody: the connection owes the rest of something begun — a
	// request body, the params of a call, the messages of an open channel.
	// The body timeout runs from the start of the phase.
	PhaseBody
	PhaseWait
)

var phaseNames = [...]string{"idle", "head", "body", "wait"}

// RefuseInput is how many of the first bytes of the unconsumed input
// [Session.Refuse] is given, at most: enough to name the frame being
// refused (its msgid, its channel), not a copy of all a peer sent.
const RefuseInput = 256

// Refusal is why the reactor ends a connection's conversation (see
// [Session.Refuse]).
type Refusal uint8

const (
	// RefuseTimeout: the deadline of the connection's phase passed — a
	// frame, body or call that did not complete in time nor keep the
	// minimum rate, or a keep-alive connection that stayed idle.
	RefuseTimeout Refusal = iota
	// RefuseOverload: the engine's budget for buffered input is spent and
	// this connection's partial input grew. It is refused, not served
	// later: the peer may try again (HTTP 503, an RPC "busy" error).
	RefuseOverload
)

func (r Refusal) String() string {
	switch r {
	case RefuseTimeout:
		return "timeout"
	case RefuseOverload:
		return "overload"
	}
	return "refusal(?)"
}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(?)"
}

// Flow is what a session and the reactor exchange in one call. The reactor
// owns it and fills the inputs; it is valid only during the call.
type Flow struct {
	// Out collects the bytes to send. The session appends to it; the reactor
	// writes it in one write after the call and reuses its capacity.
	Out []byte
	// Limit is where the session should stop dispatching: once len(Out) is at
	// least Limit it returns, leaving the rest of the input for later. It is
	// always at least one frame's worth: a session dispatches one frame even
	// when Limit is already reached.
	Limit int
	// Draining is set by the reactor while the engine shuts down: a session
	// should end the conversation at the next reply (HTTP: Connection: close)
	// and set Close.
	Draining bool

	// Close is set by the session: close the connection once Out and all
	// earlier output have been sent. Nothing more is read or served.
	Close bool
	// Need is set by the session when it consumed nothing because the next
	// frame is incomplete and it knows how many bytes (counted from the start
	// of the unconsumed input) that frame needs at least: the reactor does
	// not call Serve again before that many are buffered. 0 means unknown.
	Need int
	// Phase is set by the session: where the connection stands now.
	Phase Phase
	// Busy is set by the session while work it handed off is pending but
	// input is still served (MessagePack-RPC and Cocaine answer calls as
	// they complete). A busy connection in PhaseIdle is not idle: no idle
	// timeout runs and a drain waits for it. The session clears it from the
	// Post that delivers the last pending answer.
	Busy bool
	// Held is set by the session to the bytes of the peer's input it keeps
	// between calls, beyond the unconsumed input the reactor keeps (the
	// params of a call waiting for the end of its stream, say). The reactor
	// counts both against the engine's input budget. Each call starts with
	// the value the last one left, so a session that holds nothing need
	// never set it.
	Held int
	// Control is set by the session to the bytes of the input it consumed
	// in this call that were control messages (heartbeats): they keep the
	// connection alive but are no progress of the body or call the
	// connection owes, so they count neither toward its minimum rate nor
	// as the start of a new frame.
	Control int
	// Requests, Errors and Panics count what the call did: frames served,
	// protocol errors answered (malformed input, limits, timeouts) and
	// handler panics recovered. The reactor adds them to the loop's counters.
	Requests, Errors, Panics int
}

// Env is what a codec is built with.
type Env struct {
	// Handlers is the registry the codec dispatches to. It is read-only once
	// the engine runs.
	Handlers *handlers.Registry
	// Limits bound what one connection may send.
	Limits Limits
	// Loops is the number of event loops; [handlers.Conn.Loop] is below it,
	// so a codec can keep per-loop scratch space indexed by loop.
	Loops int
	// Logger receives the codec's log lines; never nil.
	Logger *slog.Logger
	// Listeners reports the engine's listeners, in the order they were
	// added, with the scheme of the codec each serves: a directory service
	// such as Cocaine's locator advertises them. It may be called from any
	// goroutine; it is nil when the codec was built outside an engine.
	Listeners func() []Listener
	// Pool runs blocking handlers (see [handlers.Blocker] and
	// [handlers.BlockingMethod]) off the event loops. A codec given a nil
	// Pool answers every blocking handler as if the pool were full.
	Pool Pool
}

// Listener is one of the engine's listeners.
type Listener struct {
	Scheme string   // the codec's scheme, as in the listen URL ("http", "cocaine")
	Addr   net.Addr // the bound address
}

// Pool is the engine's bounded offload pool.
type Pool interface {
	// Go runs fn on a worker goroutine and reports true, or reports false
	// at once, without running fn, when every worker is busy and the queue
	// is full, when the engine's input budget cannot take size more bytes,
	// or when the engine has stopped. It may be called from any goroutine.
	//
	// size is what the work holds (its copy of the request or call): it
	// counts against the input budget until fn returns. ctx is the context
	// of the connection the work is for ([handlers.Conn.Context]): when it
	// is done before a worker takes fn — the client left — fn is dropped,
	// unrun. fn hands its result back with [Conn.Post]; it should recover
	// its own panics (the pool recovers and logs the rest).
	Go(ctx context.Context, size int, fn func()) bool
}

// Limits bound the input of one connection. A zero field takes the default
// shown; each codec uses the fields that apply to it.
type Limits struct {
	MaxRequestLine int   // HTTP request line, bytes; default 8 KiB (414 past it)
	MaxHeaderBytes int   // HTTP header section, bytes; default 64 KiB (431)
	MaxHeaders     int   // HTTP header fields; default 100 (431)
	MaxBody        int64 // request body, bytes; default 4 MiB (413)
	MaxFrame       int   // one msgpack frame, bytes; default 1 MiB
}

// Defaults for [Limits].
const (
	DefaultMaxRequestLine = 8 << 10
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxHeaders     = 100
	DefaultMaxBody        = 4 << 20
	DefaultMaxFrame       = 1 << 20
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = DefaultMaxRequestLine
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.MaxFrame <= 0 {
		l.MaxFrame = DefaultMaxFrame
	}
	return l
}
