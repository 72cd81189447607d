package mpack

import "github.com/tokamak-io/tokamak/codec"

// Walkers are the Walkers of one event loop: one that the loop's
// connections share for frames that arrive whole, and spares lent to the
// connections whose frame is partly received, so that their walk resumes
// where it stopped. A Walker takes about 400 bytes; lending one only to a
// partial frame keeps an idle connection small. Walkers belong to one
// goroutine (the loop); the zero value is ready once Limits are set.
type Walkers struct {
	shared Walker
	spare  []*Walker
}

// MaxSpareWalkers bounds the spares a loop keeps: past it they go to the
// garbage collector, so a burst of slow clients does not pin memory.
const MaxSpareWalkers = 64

// SetLimits sets the Limits of every frame walked from now on.
func (l *Walkers) SetLimits(lim Limits) { l.shared.Limits = lim }

// take returns a Walker with the state of the shared one, which is reset
// for the next frame.
func (l *Walkers) take() *Walker {
	var w *Walker
	if n := len(l.spare); n > 0 {
		w = l.spare[n-1]
		l.spare[n-1] = nil
		l.spare = l.spare[:n-1]
	} else {
		w = new(Walker)
	}
	*w = l.shared
	l.shared.Reset()
	return w
}

// give takes back a Walker.
func (l *Walkers) give(w *Walker) {
	if len(l.spare) < MaxSpareWalkers {
		w.Reset()
		l.spare = append(l.spare, w)
	}
}

// Spares reports how many Walkers wait to be lent. For tests.
func (l *Walkers) Spares() int { return len(l.spare) }

// A Framer finds the frames of one connection's input with the Walkers of
// its loop, holding a Walker of its own only while a frame is partly
// received. Its zero value is ready; it belongs to the loop's goroutine.
type Framer struct {
	own  *Walker
	hint int // the Need to report for the partial frame
}

// MinNeed is the least shortfall [Framer.Need] reports. The Walker's Need
// is a lower bound on the whole frame: it counts a byte for every element
// still to come, so it can lie past a header that is already arriving.
// Reported as codec.Flow.Need, the reactor would wait for those bytes
// before serving again, and a header declaring an impossible length inside
// a frame (94 02 00 dd ff ff ff ff, sent in two writes) would be refused
// only at the header timeout. A small shortfall is not reported (the walk
// resumes where it stopped, so serving as bytes arrive costs little); a
// large one means a payload is outstanding, and waiting for it saves calls.
const MinNeed = 256

// Next walks the frame at the start of buf, which must start with the same
// bytes as at the previous call when that one was incomplete. It returns
// the frame's length, or [codec.ErrIncomplete] (the walk is kept for the
// next call), or the Walker's [*Error], which points into the Walker and
// stays valid until [Framer.Drop].
func (fr *Framer) Next(l *Walkers, buf []byte) (int, error) {
	w := fr.own
	if w == nil {
		w = &l.shared
	}
	n, err := w.Walk(buf)
	switch {
	case err == nil:
		if fr.own != nil {
			l.give(fr.own)
			fr.own = nil
		}
	case err == codec.ErrIncomplete:
		if fr.own == nil {
			fr.own = l.take()
		}
		fr.hint = 0
		if need := fr.own.Need(); need-len(buf) >= MinNeed {
			fr.hint = need
		}
	}
	return n, err
}

// Drop forgets a partial or refused frame and gives back its Walker.
func (fr *Framer) Drop(l *Walkers) {
	if fr.own != nil {
		l.give(fr.own)
		fr.own = nil
	}
	l.shared.Reset()
}

// Partial reports whether a frame is partly received.
func (fr *Framer) Partial() bool { return fr.own != nil }

// Need is the codec.Flow.Need of the partial frame, counted from its first
// byte: 0 when there is none or when it is near whole (see [MinNeed]).
func (fr *Framer) Need() int {
	if fr.own == nil {
		return 0
	}
	return fr.hint
}
