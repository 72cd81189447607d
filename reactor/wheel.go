package reactor

// wheel is a hashed timing wheel of connection deadlines, one per event loop
// and used only on that loop's goroutine.
//
// Each connection has at most one deadline (the timeout of the phase it is
// in) and sits in at most one slot. Rescheduling is lazy: a deadline that
// moves later leaves the connection in its earlier slot, and when that slot
// fires the connection is moved on. So the common case, a keep-alive
// connection whose idle deadline moves forward with every request, costs one
// field write and no list operation.
type wheel struct {
	tick  int64   // nanoseconds per slot
	slots []*conn // heads of doubly linked lists through conn.wprev/wnext
	mask  int64
	cur   int64 // the next tick number to process
}

func newWheel(tick int64, nslots int) *wheel {
	n := 1
	for n < nslots {
		n <<= 1
	}
	return &wheel{tick: tick, slots: make([]*conn, n), mask: int64(n - 1)}
}

// start sets the tick the wheel processes first.
func (w *wheel) start(now int64) { w.cur = now / w.tick }

// schedule sets c's deadline (0: none) and files c under it.
func (w *wheel) schedule(c *conn, deadline int64) {
	c.deadline = deadline
	if deadline == 0 {
		w.remove(c)
		return
	}
	t := max(deadline/w.tick, w.cur)
	if c.wlinked {
		if c.wtick <= t {
			return // fires early and is moved on then
		}
		w.remove(c)
	}
	w.insert(c, t)
}

func (w *wheel) insert(c *conn, t int64) {
	s := &w.slots[t&w.mask]
	c.wtick, c.wlinked = t, true
	c.wprev, c.wnext = nil, *s
	if *s != nil {
		(*s).wprev = c
	}
	*s = c
}

func (w *wheel) remove(c *conn) {
	if !c.wlinked {
		return
	}
	if c.wprev != nil {
		c.wprev.wnext = c.wnext
	} else {
		w.slots[c.wtick&w.mask] = c.wnext
	}
	if c.wnext != nil {
		c.wnext.wprev = c.wprev
	}
	c.wprev, c.wnext, c.wlinked = nil, nil, false
}

// advance processes every slot up to now and calls expire for each
// connection whose deadline has passed. expire may reschedule c.
func (w *wheel) advance(now int64, expire func(c *conn)) {
	end := now / w.tick
	if n := int64(len(w.slots)); end-w.cur >= n {
		w.cur = end - n + 1 // after a long stall, one turn visits every slot
	}
	for w.cur <= end {
		s := &w.slots[w.cur&w.mask]
		c := *s
		*s = nil
		w.cur++ // what is filed from here on lands in a later slot
		for c != nil {
			next := c.wnext
			c.wprev, c.wnext, c.wlinked = nil, nil, false
			switch {
			case c.deadline == 0:
			case c.deadline <= now:
				expire(c)
			default:
				w.insert(c, max(c.deadline/w.tick, w.cur))
			}
			c = next
		}
	}
}
