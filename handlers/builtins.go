package handlers

import (
	"encoding/base64"
	"slices"
	"strconv"
)

// LoopStats counts what one event loop has done since the engine started.
type LoopStats struct {
	Loop        int    // index of the loop
	Connections int64  // connections open now
	Accepted    uint64 // connections accepted
	Refused     uint64 // connections closed at accept (over the connection cap)
	Requests    uint64 // requests and frames served
	Errors      uint64 // protocol errors answered (malformed input, limits, timeouts)
	Panics      uint64 // handler panics recovered
	InputHeld   int64  // bytes of peer input held now (partial frames, bodies, calls' params)
	Overloaded  uint64 // connections refused because the input budget was spent
	TimedOut    uint64 // connections ended by a deadline (idle, head, body, minimum rate)
	Resets      uint64 // connections dropped with a reset (stopped reading, flooding, stuck)
}

// Stats is a snapshot of the engine's counters, as GET /stats reports them.
type Stats struct {
	Draining bool // the engine is shutting down gracefully
	Loops    []LoopStats
	// InputBudget is the engine's budget for buffered input, in bytes:
	// the loops' input (LoopStats.InputHeld) and OffloadHeld count
	// against it.
	InputBudget int64
	// OffloadHeld is the bytes of the copies handed to the offload pool,
	// queued or running.
	OffloadHeld int64
	// OffloadDropped counts blocking calls dropped unrun because their
	// client left while they waited for a worker.
	OffloadDropped uint64
	// Listeners has one entry per listener, in the order they were added.
	Listeners []ListenerStats
}

// ListenerStats counts the connections of one listener.
type ListenerStats struct {
	Addr        string // the bound address
	Connections int64  // open now
	Refused     uint64 // reset at accept: at the listener's share or the engine's cap
}

// Total returns the sum of every loop's counters; its Loop field is -1.
func (s Stats) Total() LoopStats {
	t := LoopStats{Loop: -1}
	for _, l := range s.Loops {
		t.Connections += l.Connections
		t.Accepted += l.Accepted
		t.Refused += l.Refused
		t.Requests += l.Requests
		t.Errors += l.Errors
		t.Panics += l.Panics
		t.InputHeld += l.InputHeld
		t.Overloaded += l.Overloaded
		t.TimedOut += l.TimedOut
		t.Resets += l.Resets
	}
	return t
}

// RegisterBuiltins registers the built-in handlers, whose answers scripts
// and conformance suites depend on byte for byte:
//
//	GET /plaintext  200 text/plain; charset=utf-8  Hello, World!
//	GET /json       200 application/json           {"message":"Hello, World!"}
//	    /echo       200 application/json           the request, see below (any method)
//	GET /healthz    200 text/plain; charset=utf-8  ok\n, or 503 draining\n while draining
//	GET /stats      200 application/json           the counters, see below
//
// HEAD works on each of them, as on every GET route.
//
// /echo describes the request as the codec parsed it, with its keys in this
// order:
//
//	{"method":"GET","target":"/echo?x=1","version":"HTTP/1.1",
//	 "headers":[["Host","a"],["X","y"]],"body":"<base64>"}
//
// The headers are those received, in order, with the case of their names as
// sent; the body is the decoded body (chunked framing removed) in standard
// base64 with padding. The strings are the request's bytes as JSON strings:
// valid UTF-8 is copied; '"', '\' and the control characters U+0000–U+001F
// and U+007F are escaped (\n, \r, \t, \b, \f or \u00XX), and so are U+2028
// and U+2029; each byte that is not part of valid UTF-8 becomes \u00XX, the
// character of the same value (the Latin-1 reading of obs-text, RFC 9110
// §5.5), so a client can tell which byte was sent.
//
// /stats reports the totals over all loops, the input budget and the
// offload pool's part of it, then each loop and each listener:
//
//	{"draining":false,"connections":N,"accepted":N,"refused":N,"requests":N,
//	 "errors":N,"panics":N,"input_held":N,"overloaded":N,"timed_out":N,
//	 "resets":N,"input_budget":N,"offload_held":N,"offload_dropped":N,
//	 "loops":[{"loop":0,"connections":N,...},...],
//	 "listeners":[{"addr":"127.0.0.1:8080","connections":N,"refused":N},...]}
//
// stats is called on the event loop for each request to /stats and
// /healthz, so it must be cheap and must not block. It may be nil: /stats
// then reports zeros and no loops, and /healthz reports draining only once
// the engine context of the request's connection is cancelled.
func RegisterBuiltins(reg *Registry, stats func() Stats) {
	reg.HandleFunc("GET", "/plaintext", Plaintext)
	reg.HandleFunc("GET", "/json", JSON)
	reg.HandleFunc("", "/echo", Echo)
	b := builtins{stats}
	reg.HandleFunc("GET", "/healthz", b.healthz)
	reg.HandleFunc("GET", "/stats", b.stats)
}

// Plaintext answers "Hello, World!" as text/plain; it is GET /plaintext.
func Plaintext(w *Response, _ *Request) {
	w.addLine("Content-Type: text/plain; charset=utf-8\r\n")
	w.WriteString("Hello, World!")
}

// JSON answers {"message":"Hello, World!"} as application/json; it is
// GET /json.
func JSON(w *Response, _ *Request) {
	w.addLine("Content-Type: application/json\r\n")
	w.WriteString(`{"message":"Hello, World!"}`)
}

// Echo answers a JSON description of the request; it is /echo (see
// [RegisterBuiltins]). It allocates nothing once w's body has grown to the
// size of the answer.
func Echo(w *Response, r *Request) {
	w.addLine("Content-Type: application/json\r\n")
	b := w.Body()
	// One growth for the usual answer: escapes and the headers' brackets
	// may still need a little more.
	n := 80 + len(r.Method) + len(r.Target) + len(r.Proto) + base64.StdEncoding.EncodedLen(len(r.Body))
	for _, h := range r.Headers {
		n += 8 + len(h.Name) + len(h.Value)
	}
	b = slices.Grow(b, n)
	b = append(b, `{"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, r.Target)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, r.Proto)
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, h.Name)
		b = append(b, ',')
		b = appendJSONString(b, h.Value)
		b = append(b, ']')
	}
	b = append(b, `],"body":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Body)
	b = append(b, `"}`...)
	w.body = b // grown from w's own buffer: adopt it, even when append moved it
}

// builtins holds what the stateful built-ins read.
type builtins struct {
	snapshot func() Stats // may be nil
}

func (b builtins) healthz(w *Response, r *Request) {
	w.addLine("Content-Type: text/plain; charset=utf-8\r\n")
	if b.draining(r) {
		w.SetStatus(503)
		w.WriteString("draining\n")
		return
	}
	w.WriteString("ok\n")
}

func (b builtins) draining(r *Request) bool {
	if b.snapshot != nil && b.snapshot().Draining {
		return true
	}
	if r.Conn != nil {
		if ctx := r.Conn.EngineContext(); ctx != nil && ctx.Err() != nil {
			return true
		}
	}
	return false
}

func (b builtins) stats(w *Response, r *Request) {
	var s Stats
	if b.snapshot != nil {
		s = b.snapshot()
	}
	w.addLine("Content-Type: application/json\r\n")
	w.body = appendStats(w.Body(), s) // as in Echo
}

// appendStats appends s as the JSON object GET /stats answers (see
// [RegisterBuiltins]).
func appendStats(dst []byte, s Stats) []byte {
	t := s.Total()
	dst = append(dst, `{"draining":`...)
	dst = strconv.AppendBool(dst, s.Draining)
	dst = appendCounters(dst, &t)
	dst = append(dst, `,"input_budget":`...)
	dst = strconv.AppendInt(dst, s.InputBudget, 10)
	dst = append(dst, `,"offload_held":`...)
	dst = strconv.AppendInt(dst, s.OffloadHeld, 10)
	dst = append(dst, `,"offload_dropped":`...)
	dst = strconv.AppendUint(dst, s.OffloadDropped, 10)
	dst = append(dst, `,"loops":[`...)
	for i := range s.Loops {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"loop":`...)
		dst = strconv.AppendInt(dst, int64(s.Loops[i].Loop), 10)
		dst = appendCounters(dst, &s.Loops[i])
		dst = append(dst, '}')
	}
	dst = append(dst, `],"listeners":[`...)
	for i, l := range s.Listeners {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"addr":`...)
		dst = AppendJSONString(dst, []byte(l.Addr))
		dst = append(dst, `,"connections":`...)
		dst = strconv.AppendInt(dst, l.Connections, 10)
		dst = append(dst, `,"refused":`...)
		dst = strconv.AppendUint(dst, l.Refused, 10)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendCounters appends the counters of l as JSON members, each preceded
// by a comma.
func appendCounters(dst []byte, l *LoopStats) []byte {
	dst = append(dst, `,"connections":`...)
	dst = strconv.AppendInt(dst, l.Connections, 10)
	dst = append(dst, `,"accepted":`...)
	dst = strconv.AppendUint(dst, l.Accepted, 10)
	dst = append(dst, `,"refused":`...)
	dst = strconv.AppendUint(dst, l.Refused, 10)
	dst = append(dst, `,"requests":`...)
	dst = strconv.AppendUint(dst, l.Requests, 10)
	dst = append(dst, `,"errors":`...)
	dst = strconv.AppendUint(dst, l.Errors, 10)
	dst = append(dst, `,"panics":`...)
	dst = strconv.AppendUint(dst, l.Panics, 10)
	dst = append(dst, `,"input_held":`...)
	dst = strconv.AppendInt(dst, l.InputHeld, 10)
	dst = append(dst, `,"overloaded":`...)
	dst = strconv.AppendUint(dst, l.Overloaded, 10)
	dst = append(dst, `,"timed_out":`...)
	dst = strconv.AppendUint(dst, l.TimedOut, 10)
	dst = append(dst, `,"resets":`...)
	dst = strconv.AppendUint(dst, l.Resets, 10)
	return dst
}
