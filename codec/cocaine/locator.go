package cocaine

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// The locator's answers, as cocaine-core v0.12 has them.
const (
	// LocatorVersion is the protocol version of the locator
	// (protocol<locator_tag> in cocaine-core v0.12), answered to
	// resolve("locator"). Only resolve, method 0, is served and described.
	LocatorVersion = 3
	// AppVersion is the protocol version answered for an event: that of a
	// Cocaine app (protocol<app_tag>).
	AppVersion = 1

	// CategoryLocator and CodeNotAvailable are the error of a resolve of
	// an unknown name: cocaine-core's locator category (0x0A in its
	// registrar) and service_not_available, with its message.
	CategoryLocator  = 10
	CodeNotAvailable = 1
	msgNotAvailable  = "service is not available"

	// CategoryDispatch and CodeSlotNotFound are the error of a locator
	// method other than resolve: cocaine-core's dispatch category (0x07)
	// and slot_not_found. Every method of the real locator has error as
	// type 1 of its answer, so the error stays inside the client's graph.
	CategoryDispatch = 7
	CodeSlotNotFound = 5
	msgSlotNotFound  = "specified slot is not bound"
)

// graphApp is the graph of every event, the app's enqueue:
// {0: ["enqueue", S, S]} with S = {0: ["write", nil], 1: ["error", {}],
// 2: ["close", {}]}: a recurrent write (nil) and two terminal messages
// ({}), for the client's stream and ours.
var graphApp = func() []byte {
	s := []byte{0x83,
		0x00, 0x92, 0xa5, 'w', 'r', 'i', 't', 'e', 0xc0,
		0x01, 0x92, 0xa5, 'e', 'r', 'r', 'o', 'r', 0x80,
		0x02, 0x92, 0xa5, 'c', 'l', 'o', 's', 'e', 0x80}
	g := []byte{0x81, 0x00, 0x93, 0xa7, 'e', 'n', 'q', 'u', 'e', 'u', 'e'}
	return append(append(g, s...), s...)
}()

// graphLocator is the locator's own graph, resolve only: {0: ["resolve",
// {}, {0: ["value", {}], 1: ["error", {}]}]} — resolve takes no further
// message from the client ({}) and is answered by one value or one error,
// both terminal. Nothing follows them: no choke, either way.
var graphLocator = []byte{0x81,
	0x00, 0x93, 0xa7, 'r', 'e', 's', 'o', 'l', 'v', 'e', 0x80,
	0x82,
	0x00, 0x92, 0xa5, 'v', 'a', 'l', 'u', 'e', 0x80,
	0x01, 0x92, 0xa5, 'e', 'r', 'r', 'o', 'r', 0x80}

// LocatorOptions configure a [Locator]. The zero value is what "cocaine-
// locator" is registered with.
type LocatorOptions struct {
	// Scheme is the scheme of the engine's listeners advertised for the
	// registry's events. Default "cocaine".
	Scheme string
	// Self is the scheme of the locator's own listeners, advertised for
	// resolve("locator"). Default "cocaine-locator".
	Self string
}

// Locator is the codec of Cocaine's service locator, through which
// standard Cocaine clients find a service before they connect to it. It
// serves resolve: every event of the registry (a stream handler or a unary
// method, see [handlers.Registry.Events]) resolves to the engine's
// "cocaine" listeners, the app protocol version and the enqueue graph; the
// name "locator" resolves to the locator itself.
type Locator struct {
	reg       *handlers.Registry
	listeners func() []codec.Listener
	log       *slog.Logger
	lim       mpack.Limits
	opt       LocatorOptions
	loops     codec.PerLoop[mpack.Walkers]
}

// NewLocator returns the locator codec for env, registered as
// "cocaine-locator". env.Listeners tells which endpoints to advertise; a
// locator made without it knows none and answers every resolve with an
// error.
func NewLocator(env codec.Env) (codec.Codec, error) {
	return NewLocatorWithOptions(env, LocatorOptions{})
}

// NewLocatorWithOptions returns a locator codec for env configured by o.
func NewLocatorWithOptions(env codec.Env, o LocatorOptions) (*Locator, error) {
	if env.Handlers == nil {
		return nil, errors.New("cocaine: Env.Handlers is nil")
	}
	if o.Scheme == "" {
		o.Scheme = "cocaine"
	}
	if o.Self == "" {
		o.Self = "cocaine-locator"
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Locator{
		reg:       env.Handlers,
		listeners: env.Listeners,
		log:       log,
		lim:       mpack.Limits{MaxFrame: env.Limits.WithDefaults().MaxFrame},
		opt:       o,
	}
	c.loops = codec.NewPerLoop(env.Loops, func() *mpack.Walkers {
		l := new(mpack.Walkers)
		l.SetLimits(c.lim)
		return l
	})
	return c, nil
}

// NewSession returns the state of a new connection, on its event loop.
func (c *Locator) NewSession(conn codec.Conn) codec.Session {
	return &locSession{c: c, l: c.loops.Get(conn.Loop()), conn: conn}
}

// locSession is a locator connection: each resolve is answered at once,
// so the only state is the partial frame and the highest channel id.
type locSession struct {
	c     *Locator
	l     *mpack.Walkers
	conn  codec.Conn
	fr    mpack.Framer
	maxID uint64
}

// Serve answers every complete frame at the start of in. A frame that is
// not a well-formed resolve, heartbeat or terminate closes the connection.
func (s *locSession) Serve(in []byte, f *codec.Flow) int {
	off, stopped := 0, false
	for served := 0; off < len(in); served++ {
		if served > 0 && len(f.Out) >= f.Limit {
			stopped = true
			break
		}
		n, err := s.fr.Next(s.l, in[off:])
		if err == codec.ErrIncomplete {
			break
		}
		if err == nil {
			err = s.dispatch(in[off:off+n], f)
		}
		if err != nil {
			if log := s.c.log; log.Enabled(context.Background(), slog.LevelDebug) {
				log.Debug("cocaine: malformed locator frame; closing the connection", "err", err,
					"remote", s.conn.RemoteAddr())
			}
			s.fr.Drop(s.l)
			f.Errors++
			f.Close = true
			return len(in)
		}
		off += n
		if f.Close {
			return len(in)
		}
	}
	f.Need = s.fr.Need()
	f.Phase = codec.PhaseIdle
	if s.fr.Partial() || stopped {
		f.Phase = codec.PhaseHead
	} else if f.Draining {
		f.Close = true // every resolve received is answered
	}
	return off
}

// dispatch serves one walked frame.
func (s *locSession) dispatch(frame []byte, f *codec.Flow) error {
	var m Message
	if err := V12.Parse(frame, &m); err != nil {
		return err
	}
	f.Requests++
	switch m.Channel {
	case 0:
		return malformed(frame, 1, "channel 0 is invalid")
	case ControlChannel:
		// A resolve has arguments, a heartbeat none; a terminate's first
		// is an integer. cocaine-framework-python resolves on channel 1.
		if m.Type == TypeHeartbeat && m.NArgs == 0 {
			f.Out = V12.AppendHeartbeat(f.Out)
			return nil
		}
		if m.Type == TypeTerminate {
			if code, reason, ok := parseTerminate(&m); ok {
				f.Out = appendTerminate(V12, f.Out, code, reason)
				f.Close = true
				return nil
			}
		}
	}
	if m.Channel <= s.maxID {
		return nil // a channel answered already, or revoked: dropped
	}
	s.maxID = m.Channel
	if m.Type != TypeResolve {
		f.Out = appendError(V12, f.Out, m.Channel, CategoryDispatch, CodeSlotNotFound, msgSlotNotFound)
		return nil
	}
	name, err := parseResolve(&m)
	if err != nil {
		return malformed(frame, 0, "resolve takes [name] or [name, seed]")
	}
	s.resolve(f, m.Channel, name)
	return nil
}

// parseResolve reads the args of a resolve: [name] or [name, seed], the
// seed a str or nil.
func parseResolve(m *Message) ([]byte, error) {
	if m.NArgs != 1 && m.NArgs != 2 {
		return nil, errArgs
	}
	name, rest, err := mpack.ReadStrOrBin(m.Args)
	if err != nil {
		return nil, errArgs
	}
	if m.NArgs == 2 {
		if _, _, err := readBytesOrNil(rest); err != nil {
			return nil, errArgs
		}
	}
	return name, nil
}

// resolve answers a resolve of name on channel id.
func (s *locSession) resolve(f *codec.Flow, id uint64, name []byte) {
	scheme, version, graph := s.c.opt.Scheme, uint64(AppVersion), graphApp
	switch {
	case string(name) == "locator":
		scheme, version, graph = s.c.opt.Self, LocatorVersion, graphLocator
	case s.c.reg.Stream(name) == nil && s.c.reg.Method(name) == nil:
		f.Out = appendError(V12, f.Out, id, CategoryLocator, CodeNotAvailable, msgNotAvailable)
		return
	}
	start := len(f.Out)
	f.Out = V12.head(f.Out, id, TypeValue, 0, 3)
	out, ok := s.appendEndpoints(f.Out, scheme)
	f.Out = out
	if !ok {
		// Nothing to connect to: a client could do nothing with the value.
		f.Out = appendError(V12, f.Out[:start], id, CategoryLocator, CodeNotAvailable, msgNotAvailable)
		return
	}
	f.Out = mpack.AppendUint(f.Out, version)
	f.Out = V12.tail(append(f.Out, graph...))
}

// appendEndpoints appends the array of [host, port] of the engine's
// listeners with scheme. An unspecified listen address (0.0.0.0, ::) is
// replaced by the address the client reached, which is one of them. It
// reports false when there is none.
func (s *locSession) appendEndpoints(dst []byte, scheme string) ([]byte, bool) {
	if s.c.listeners == nil {
		return dst, false
	}
	var eps [8]net.TCPAddr
	list := eps[:0]
	var reached net.IP
	for _, ln := range s.c.listeners() {
		a, ok := ln.Addr.(*net.TCPAddr)
		if ln.Scheme != scheme || !ok {
			continue
		}
		ep := *a
		if ep.IP == nil || ep.IP.IsUnspecified() {
			if reached == nil {
				if reached = s.reachedIP(); reached == nil {
					continue // no address to tell: better none than "<nil>"
				}
			}
			ip := reached
			if ep.IP.To4() != nil && ip.To4() == nil { // 0.0.0.0, an IPv6 client
				if !ip.IsLoopback() {
					continue
				}
				ip = net.IPv4(127, 0, 0, 1)
			}
			ep.IP = ip
		}
		list = append(list, ep)
	}
	if len(list) == 0 {
		return dst, false
	}
	dst = mpack.AppendArrayHeader(dst, uint32(len(list)))
	for _, ep := range list {
		dst = append(dst, 0x92)
		dst = appendRaw(dst, ep.IP.String())
		dst = mpack.AppendUint(dst, uint64(ep.Port))
	}
	return dst, true
}

// reachedIP returns the address of this host that the client reached,
// for a listener on a wildcard address: the connection's local address
// (the reactor asks the socket when the listener is a wildcard). nil when
// there is none.
func (s *locSession) reachedIP() net.IP {
	if local, ok := s.conn.LocalAddr().(*net.TCPAddr); ok && local.IP != nil && !local.IP.IsUnspecified() {
		return local.IP
	}
	return nil
}

// Refuse: a partial frame took too long, the connection stayed idle, or
// the engine's input budget cannot hold its partial frame. Nothing can be
// answered on a channel whose invoke has not arrived whole.
func (s *locSession) Refuse(_ codec.Refusal, _ codec.Phase, _ []byte, f *codec.Flow) {
	if s.fr.Partial() {
		f.Errors++
	}
	s.fr.Drop(s.l)
	f.Close = true
}

// Close releases the connection.
func (s *locSession) Close() { s.fr.Drop(s.l) }

var (
	_ codec.Codec   = (*Locator)(nil)
	_ codec.Session = (*locSession)(nil)
	_ codec.Factory = NewLocator
)
