package codec

// PerLoop is a codec's scratch space for each event loop (the request being
// parsed, a response buffer, a msgpack Walker...), shared by the sessions
// of one loop because a loop serves one of them at a time. A slot is made
// on its loop's first connection and touched only by that loop, so it
// needs no lock.
type PerLoop[T any] struct {
	slots []*T
	fresh func() *T
}

// NewPerLoop returns room for loops slots ([Env.Loops]), each made by fresh
// when first asked for.
func NewPerLoop[T any](loops int, fresh func() *T) PerLoop[T] {
	return PerLoop[T]{slots: make([]*T, max(loops, 1)), fresh: fresh}
}

// Get returns the scratch space of loop i ([handlers.Conn.Loop]). It must be
// called on loop i, as NewSession is. An index the engine did not announce
// gets a fresh one of its own, never a slot another loop may use.
func (p *PerLoop[T]) Get(i int) *T {
	if i < 0 || i >= len(p.slots) {
		return p.fresh()
	}
	if p.slots[i] == nil {
		p.slots[i] = p.fresh()
	}
	return p.slots[i]
}
