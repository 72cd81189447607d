package http1

import (
	"errors"
	"log/slog"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

func init() { codec.Register("http", New) }

// Codec is the HTTP/1.1 server codec. It is made once per engine by
// [New] and makes a session per connection.
type Codec struct {
	p     *Parser
	reg   *handlers.Registry
	log   *slog.Logger
	pool  codec.Pool // runs blocking handlers; nil: they are answered 503
	loops []*loop    // by event loop; each slot is touched by its loop only
}

// loop is the scratch space of one event loop: the request being served,
// its header fields and its response. Only one request per loop is served
// at a time, so the sessions of a loop share it, which keeps them small.
type loop struct {
	req    handlers.Request
	w      handlers.Response
	fields []handlers.Header // capacity MaxHeaders: headers, then trailers

	// While the engine drains: scratch for looking ahead at the next
	// request without touching req (see session.more).
	peek       handlers.Request
	peekFields []handlers.Header
}

// New returns the HTTP/1.1 codec for env. It is registered as "http".
// env.Limits' zero fields take their defaults; env.Handlers must not be
// nil.
func New(env codec.Env) (codec.Codec, error) {
	if env.Handlers == nil {
		return nil, errors.New("http1: Env.Handlers is nil")
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	startClock()
	return &Codec{
		p:     NewParser(env.Limits),
		reg:   env.Handlers,
		log:   log,
		pool:  env.Pool,
		loops: make([]*loop, max(env.Loops, 1)),
	}, nil
}

// Parser returns the parser the codec's sessions use.
func (c *Codec) Parser() *Parser { return c.p }

// NewSession returns the state of a new connection. It runs on the
// connection's event loop; the loop's scratch space is made here on the
// loop's first connection.
func (c *Codec) NewSession(conn codec.Conn) codec.Session {
	i := conn.Loop()
	var l *loop
	if 0 <= i && i < len(c.loops) {
		if l = c.loops[i]; l == nil {
			l = c.newLoop()
			c.loops[i] = l
		}
	} else {
		// A loop index the engine did not announce: serve correctly
		// from private scratch space rather than share one.
		l = c.newLoop()
	}
	return &session{c: c, l: l, conn: conn}
}

func (c *Codec) newLoop() *loop {
	fields := make([]handlers.Header, 0, c.p.lim.MaxHeaders)
	return &loop{fields: fields, req: handlers.Request{Headers: fields}}
}

var (
	_ codec.Codec   = (*Codec)(nil)
	_ codec.Session = (*session)(nil)
)
