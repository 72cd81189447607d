// Package rpccall runs unary RPC methods for the codecs that carry them
// (MessagePack-RPC, Cocaine, the HTTP bridge): on the event loop with the
// panic recovered and the result checked, or on the offload pool with the
// answer posted back to the connection's loop.
package rpccall

import (
	"fmt"
	"runtime/debug"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/offload"
)

// resultLimits bound a method's result: it is our own output, so only its
// well-formedness matters, not the peer's frame budget.
var resultLimits = mpack.Limits{MaxFrame: mpack.MaxFrameLimit, MaxDepth: mpack.MaxDepthLimit}

// Serve calls m for c on the current goroutine. A panic is recovered and
// returned as a [*Panic] (for the caller to log and count), and w then
// holds the error
// [handlers.CodeInternal]; so does w when the method set a result that is
// not exactly one msgpack value. It allocates nothing when the method
// does not.
func Serve(m handlers.Method, w *handlers.Reply, c *handlers.Call) (panicked any) {
	if panicked = call(m, w, c); panicked != nil {
		w.Reset()
		w.SetError(handlers.CodeInternal, "internal error")
		return panicked
	}
	if _, _, failed := w.Err(); failed {
		return nil
	}
	if res := w.Result(); len(res) > 0 {
		if n, err := mpack.Walk(res, resultLimits); err != nil || n != len(res) {
			w.SetError(handlers.CodeInternal, "internal error: the method's result is not one msgpack value")
		}
	}
	return nil
}

func call(m handlers.Method, w *handlers.Reply, c *handlers.Call) (panicked any) {
	defer func() {
		if v := recover(); v != nil {
			panicked = &Panic{Value: v, Stack: debug.Stack()}
		}
	}()
	m.ServeRPC(w, c)
	return nil
}

// Panic is a method's recovered panic with the stack where it happened.
type Panic struct {
	Value any
	Stack []byte
}

// String formats the value then the stack, for a log line.
func (p *Panic) String() string { return fmt.Sprintf("%v\n\n%s", p.Value, p.Stack) }

// MaxPending is how many offloaded calls one connection may have running
// or queued at once; past it the codecs answer [handlers.CodeBusy], so that
// one connection cannot take the whole pool (and hold a params copy per
// queued call) while every other connection is told busy.
const MaxPending = 64

// Done receives the answer of an offloaded call on the connection's event
// loop, with f the flow of that Post (see [codec.Conn.Post]). w and its
// buffers are valid during the call only. panicked is the method's
// recovered panic, or nil.
type Done func(f *codec.Flow, w *handlers.Reply, panicked any)

// Offload runs m on pool for a call of method with params, both copied
// first (and the Call's Conn detached from conn, see [offload.Detach]),
// then hands the reply to done on conn's loop. It reports false at
// once, running nothing, when the pool is full or absent, or the input
// budget cannot take the copy: answer [handlers.CodeBusy]. done is not called when the connection closes first
// (Post drops it), so whatever done would release, the session's Close
// must release too.
func Offload(pool codec.Pool, conn codec.Conn, m handlers.Method, method, params []byte, done Done) bool {
	if pool == nil {
		return false
	}
	buf := make([]byte, 0, len(method)+len(params))
	buf = append(append(buf, method...), params...)
	// The method gets a copy of the connection's addresses: the
	// connection itself may close, and be recycled, while it runs.
	c := &handlers.Call{Method: buf[:len(method):len(method)], Params: buf[len(method):], Conn: offload.Detach(conn)}
	// The copy counts against the input budget until the method returns;
	// the call is dropped, unrun, if the client leaves while it waits.
	return pool.Go(c.Conn.Context(), cap(buf), func() {
		w := new(handlers.Reply)
		p := Serve(m, w, c)
		conn.Post(func(f *codec.Flow) { done(f, w, p) })
	})
}
