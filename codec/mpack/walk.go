package mpack

import (
	"github.com/tokamak-io/tokamak/codec"
)

// Bounds on [Limits].
const (
	// DefaultMaxDepth is the nesting allowed when [Limits.MaxDepth] is 0.
	DefaultMaxDepth = 32
	// MaxDepthLimit is the most nesting a [Walker] can check: a larger
	// [Limits.MaxDepth] is treated as this.
	MaxDepthLimit = 64
	// MaxFrameLimit is the largest frame a [Walker] can check: a larger
	// [Limits.MaxFrame] is treated as this.
	MaxFrameLimit = 1 << 30
)

// Limits bound one frame. A zero field takes the default shown. A codec
// takes MaxFrame from [codec.Limits].
type Limits struct {
	// MaxFrame is the most bytes one frame may take; default
	// [codec.DefaultMaxFrame] (1 MiB), at most [MaxFrameLimit] (1 GiB).
	MaxFrame int
	// MaxDepth is the most arrays and maps one frame may nest: a top-level
	// array is at depth 1, an array inside it at depth 2. Empty ones count.
	// Default [DefaultMaxDepth] (32), at most [MaxDepthLimit] (64).
	MaxDepth int
}

func (l Limits) bounds() (maxFrame, maxDepth int) {
	maxFrame, maxDepth = l.MaxFrame, l.MaxDepth
	if maxFrame <= 0 {
		maxFrame = codec.DefaultMaxFrame
	}
	if maxFrame > MaxFrameLimit {
		maxFrame = MaxFrameLimit
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if maxDepth > MaxDepthLimit {
		maxDepth = MaxDepthLimit
	}
	return maxFrame, maxDepth
}

// Walk checks the one msgpack object (the frame) at the start of buf and
// returns its length. It is [Walker.Walk] with a fresh Walker: it does not
// resume, reports no [Walker.Need], and allocates the [*Error] it returns
// for malformed input (nothing otherwise). A codec keeps a Walker instead.
func Walk(buf []byte, lim Limits) (n int, err error) {
	w := Walker{Limits: lim}
	n, werr := w.Walk(buf)
	switch werr {
	case nil:
		return n, nil
	case codec.ErrIncomplete:
		return 0, codec.ErrIncomplete
	}
	// Not werr, which points into w: w stays on the stack.
	e := new(Error)
	*e = w.err
	return 0, e
}

// A Walker checks msgpack frames before anything decodes them: every
// declared length against the bytes the frame may still take, the nesting
// against [Limits.MaxDepth], the frame against [Limits.MaxFrame], and the
// reserved byte 0xc1. It never allocates and never recurses.
//
// A Walker resumes: after [codec.ErrIncomplete] it keeps its place, and the
// next call continues from there instead of walking the frame again, so a
// frame that arrives in many pieces costs time linear in its size. That
// next call must be given the same frame, grown: a buf that starts with the
// same bytes as before (the unconsumed input of a connection, say). Call
// [Walker.Reset] to walk something else. After a frame is accepted, the
// Walker starts afresh at the next call.
//
// The zero Walker is ready to use with the default [Limits]; set Limits
// before the first call. A Walker takes about 400 bytes and belongs to one
// goroutine. It holds state only between an [codec.ErrIncomplete] and the
// call that completes the frame: the connections of one event loop may
// share a Walker while none has a frame pending, and a connection needs its
// own only while one is.
type Walker struct {
	// Limits bound the frames; change them only between frames.
	Limits Limits

	// The place of a walk that stopped at ErrIncomplete.
	off    int  // offset of the next object; may pass the bytes seen
	end    int  // off plus a byte per object to come, at most the frame's length
	need   int  // the least length of the frame: end, plus the rest of a header begun
	top    int  // open containers (the depth); 0 when walking the frame itself
	cur    int  // objects left in the innermost container (the frame itself at top 0)
	seen   int  // len(buf); 0 when no walk is under way
	failed bool // err is set; returned until Reset
	// Objects left in each enclosing container, when the one inside it is
	// open: stack[t] belongs to depth t.
	stack [MaxDepthLimit]uint32
	err   Error
}

// Reset makes w forget the frame it was walking and any error.
func (w *Walker) Reset() {
	w.seen, w.failed = 0, false
}

// Need reports, after [Walker.Walk] returned [codec.ErrIncomplete], the
// least number of bytes (from the start of the frame) the frame can take,
// as far as the bytes walked tell: Walk cannot succeed before buf holds that
// many, so a caller need not call it again until then. It is always more
// than len(buf) of that call, and 0 when no frame is pending.
func (w *Walker) Need() int {
	if w.seen == 0 {
		return 0
	}
	return w.need
}

// Walk checks the msgpack object that starts at buf[0] and returns its
// length n: buf[:n] is one whole, well-formed frame within the limits, which
// the readers of this package and msgpack/v5 may decode. Walk does not look
// at the bytes after it.
//
// When buf ends inside the frame and more bytes could complete it, Walk
// returns [codec.ErrIncomplete], unwrapped, and [Walker.Need] tells how many
// bytes are needed at least. Malformed input (a reserved byte, nesting over
// MaxDepth, a frame known to need more than MaxFrame bytes — a declared
// length or count is refused as soon as it is read, before any of its bytes
// arrive —, or a timestamp extension of a length other than 4, 8 or 12) is
// an [*Error] with the offset of the refused object. The error points into
// w: it stays valid, and Walk keeps returning it, until [Walker.Reset].
func (w *Walker) Walk(buf []byte) (n int, err error) {
	if w.failed {
		return 0, &w.err
	}
	maxFrame, maxDepth := w.Limits.bounds()
	off, end, top, cur := w.off, w.end, w.top, w.cur
	if w.seen == 0 || len(buf) < w.seen {
		// A new frame; or buf shrank, so it is not the frame walked before.
		off, end, top, cur = 0, 1, 0, 1
	}
	// The invariant: end = off + the objects still to walk (each takes a
	// byte at least) <= maxFrame. A one-byte object leaves end as it is.
	for {
		if cur == 0 {
			if top > 0 {
				top--
				cur = int(w.stack[top])
				continue
			}
			if off > len(buf) { // the frame ends inside a str, bin or scalar
				return w.incomplete(buf, off, end, end, top, cur)
			}
			w.seen = 0
			return off, nil
		}
		if off >= len(buf) {
			return w.incomplete(buf, off, end, end, top, cur)
		}
		c := buf[off]
		if c <= 0x7f || c >= negfixLo { // the fixints
			off++
			cur--
			continue
		}
		if c&0xe0 == fixstrLo {
			n := int(c & 0x1f)
			if end+n > maxFrame {
				return w.fail(msgFrame, buf, off, 0, maxFrame)
			}
			off += 1 + n
			end += n
			cur--
			continue
		}
		f := &formats[c]
		switch f.kind {
		case kFixed:
			h := int(f.size) - 1
			if end+h > maxFrame {
				return w.fail(msgFrame, buf, off, 0, maxFrame)
			}
			off += 1 + h
			end += h
			cur--
			continue
		case kFixArray, kFixMap, kArray, kMap:
			if top >= maxDepth {
				return w.fail(msgDepth, buf, off, 0, maxDepth)
			}
			h := int(f.size) - 1 // header bytes after the first
			if end+h > maxFrame {
				return w.fail(msgFrame, buf, off, 0, maxFrame)
			}
			var count uint64
			if h == 0 {
				count = uint64(c & 0x0f)
			} else {
				if off+1+h > len(buf) {
					return w.incomplete(buf, off, end, end+h, top, cur)
				}
				count = readLen(buf[off+1:], f.lenSize)
			}
			elems := count
			if f.typ == MapType {
				elems = 2 * count
			}
			if elems > uint64(maxFrame-end-h) {
				return w.fail(msgTooLong, buf, off, count, maxFrame)
			}
			off += 1 + h
			end += h + int(elems)
			if elems == 0 {
				cur--
				continue
			}
			w.stack[top] = uint32(cur - 1)
			top++
			cur = int(elems)
			continue
		case kBytes, kExt:
			h := int(f.size) - 1 // for ext, with the extension type after the length
			if end+h > maxFrame {
				return w.fail(msgFrame, buf, off, 0, maxFrame)
			}
			if off+1+int(f.lenSize) > len(buf) {
				return w.incomplete(buf, off, end, end+h, top, cur)
			}
			size := readLen(buf[off+1:], f.lenSize)
			if size > uint64(maxFrame-end-h) {
				return w.fail(msgTooLong, buf, off, size, maxFrame)
			}
			if f.kind == kExt {
				if off+1+h > len(buf) {
					return w.incomplete(buf, off, end, end+h+int(size), top, cur)
				}
				if int8(buf[off+h]) == timestampExt && !validTimestamp(size) {
					return w.fail(msgTimestamp, buf, off, size, 0)
				}
			}
			off += 1 + h + int(size)
			end += h + int(size)
			cur--
			continue
		case kFixExt:
			h := int(f.size) - 1
			if end+h > maxFrame {
				return w.fail(msgFrame, buf, off, 0, maxFrame)
			}
			if off+2 > len(buf) {
				return w.incomplete(buf, off, end, end+h, top, cur)
			}
			if int8(buf[off+1]) == timestampExt && !validTimestamp(uint64(h-1)) {
				return w.fail(msgTimestamp, buf, off, uint64(h-1), 0)
			}
			off += 1 + h
			end += h
			cur--
			continue
		}
		return w.fail(msgReserved, buf, off, 0, 0) // kReserved
	}
}

// incomplete saves the place of a walk that needs more bytes, with need
// the least length of the frame, and returns ErrIncomplete.
func (w *Walker) incomplete(buf []byte, off, end, need, top, cur int) (int, error) {
	w.off, w.end, w.need, w.top, w.cur, w.seen = off, end, need, top, cur, max(len(buf), 1)
	return 0, codec.ErrIncomplete
}

// fail records a malformed frame and returns it, for good. It is kept out
// of line: the walk loop calls it from many places.
//
//go:noinline
func (w *Walker) fail(msg string, buf []byte, off int, n uint64, limit int) (int, error) {
	w.failed, w.seen = true, 0
	w.err = Error{SyntaxError: codec.SyntaxError{Offset: off, Msg: msg}, Byte: buf[off], Len: n, Limit: limit}
	w.err.nnear = uint8(copy(w.err.near[:], buf[off:]))
	return 0, &w.err
}
