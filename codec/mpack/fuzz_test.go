package mpack

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/tokamak-io/tokamak/codec"
)

// fuzzLimits are small, so that fuzzing reaches every bound.
var fuzzLimits = Limits{MaxFrame: 64, MaxDepth: 3}

// fuzzSeeds are the inputs of the tables, with bombs cut short.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, tt := range validTests {
		seeds = append(seeds, []byte(tt.in))
	}
	for _, tt := range incompleteTests {
		seeds = append(seeds, []byte(tt.in))
	}
	for _, tt := range malformedTests {
		seeds = append(seeds, []byte(tt.in))
	}
	for _, tt := range readTests {
		seeds = append(seeds, []byte(tt.in))
	}
	for _, bb := range bombs {
		seeds = append(seeds, bb.in[:min(len(bb.in), 200)])
	}
	return seeds
}

// FuzzWalk: Walk never panics; a walk resumed after any split gives the
// same outcome as one walk, and so does a walk byte by byte; every proper
// prefix of an accepted frame is incomplete with a Need within the frame;
// msgpack/v5, Skip and the readers decode an accepted frame whole; a
// refusal is an *Error inside the input.
func FuzzWalk(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		var accepted [2]int
		for i, lim := range []Limits{{}, fuzzLimits} {
			n, err := Walk(in, lim)
			want := walkOutcome(n, err)
			accepted[i] = -1
			if err == nil {
				accepted[i] = n
			}

			k := int(split) % (len(in) + 1)
			w := Walker{Limits: lim}
			pn, perr := w.Walk(in[:k])
			switch {
			case perr == codec.ErrIncomplete:
				if w.Need() <= k {
					t.Fatalf("prefix %d: got need %d", k, w.Need())
				}
				if err == nil && w.Need() > n {
					t.Fatalf("prefix %d: got need %d, want at most %d", k, w.Need(), n)
				}
				if got := walkOutcome(w.Walk(in)); got != want {
					t.Fatalf("split at %d: got %q, want %q", k, got, want)
				}
			case perr == nil:
				if err != nil || pn != n {
					t.Fatalf("prefix %d: got %q, whole %q", k, walkOutcome(pn, perr), want)
				}
			default:
				if got := walkOutcome(pn, perr); got != want {
					t.Fatalf("prefix %d: got %q, whole %q", k, got, want)
				}
			}
			if len(in) <= 512 {
				w.Reset()
				var got string
				for j := 0; j <= len(in); j++ {
					if got = walkOutcome(w.Walk(in[:j])); got != "incomplete" {
						break
					}
				}
				if got != want {
					t.Fatalf("byte by byte: got %q, want %q", got, want)
				}
			}

			var e *Error
			var se *codec.SyntaxError
			switch {
			case err == nil:
				if k < n {
					var w Walker
					w.Limits = lim
					if _, perr := w.Walk(in[:k]); perr != codec.ErrIncomplete || w.Need() <= k || w.Need() > n {
						t.Fatalf("prefix %d of %d: got %q, need %d", k, n, walkOutcome(0, perr), w.Need())
					}
				}
				checkAccepted(t, in[:n])
			case err == codec.ErrIncomplete:
			case errors.As(err, &e) && errors.As(err, &se):
				if e.Offset < 0 || e.Offset >= len(in) || e.Byte != in[e.Offset] || e.Error() == "" {
					t.Fatalf("got %q for %d bytes", e.Error(), len(in))
				}
			default:
				t.Fatalf("got %T %v", err, err)
			}
		}
		// Tighter limits accept less, never another length.
		if accepted[1] >= 0 && accepted[1] != accepted[0] {
			t.Fatalf("got %d with small limits, %d with the defaults", accepted[1], accepted[0])
		}
	})
}

// FuzzReaders: the readers never panic, never return views or rests from
// outside their input, return the input whole on error, and agree with
// Skip on the length of what they read.
func FuzzReaders(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(fuzzReadersBody)
}

func fuzzReadersBody(t *testing.T, in []byte) {
	{
		b := in[:len(in):len(in)]
		for i := 0; len(b) > 0 && i < 64; i++ { // the first 64 objects and headers
			skipped, serr := Skip(b)
			if serr != nil && len(skipped) != len(b) || serr == nil && !isRest(b, skipped) {
				t.Fatalf("Skip: got %d bytes of %d left, %v", len(skipped), len(b), serr)
			}
			check := func(name string, rest []byte, err error, whole bool, views ...[]byte) {
				if err != nil {
					var te *TypeError
					if err != codec.ErrIncomplete && err != ErrRange && !errors.As(err, &te) {
						t.Fatalf("%s: got error %T %v", name, err, err)
					}
					if len(rest) != len(b) {
						t.Fatalf("%s: got %d bytes of %d left on error", name, len(rest), len(b))
					}
					return
				}
				if !isRest(b, rest) {
					t.Fatalf("%s: got a rest of %d bytes outside the %d of the input", name, len(rest), len(b))
				}
				if whole && (serr != nil || len(rest) != len(skipped)) {
					t.Fatalf("%s: got %d bytes left, Skip %d, %v", name, len(rest), len(skipped), serr)
				}
				for _, v := range views {
					if len(v) > 0 && !within(b, v) || cap(v) != len(v) {
						t.Fatalf("%s: got a view of %d bytes outside the input", name, len(v))
					}
				}
			}
			_, rest, err := ReadUint(b)
			check("ReadUint", rest, err, true)
			_, rest, err = ReadInt(b)
			check("ReadInt", rest, err, true)
			_, rest, err = ReadFloat64(b)
			check("ReadFloat64", rest, err, true)
			_, rest, err = ReadBool(b)
			check("ReadBool", rest, err, true)
			rest, err = ReadNil(b)
			check("ReadNil", rest, err, true)
			if IsNil(b) != (err == nil) {
				t.Fatalf("IsNil: got %v, ReadNil %v", IsNil(b), err)
			}
			v, rest, err := ReadStr(b)
			check("ReadStr", rest, err, true, v)
			v, rest, err = ReadBin(b)
			check("ReadBin", rest, err, true, v)
			v, rest, err = ReadStrOrBin(b)
			check("ReadStrOrBin", rest, err, true, v)
			_, v, rest, err = ReadExt(b)
			check("ReadExt", rest, err, true, v)
			n, rest, err := ReadArrayHeader(b)
			check("ReadArrayHeader", rest, err, false)
			if err == nil && n > len(rest) {
				t.Fatalf("ReadArrayHeader: got %d elements in %d bytes", n, len(rest))
			}
			n, rest, err = ReadMapHeader(b)
			check("ReadMapHeader", rest, err, false)
			if err == nil && 2*n > len(rest) {
				t.Fatalf("ReadMapHeader: got %d pairs in %d bytes", n, len(rest))
			}
			if NextType(b) >= numTypes {
				t.Fatalf("NextType: got %d", NextType(b))
			}
			// On to the next object: past a header, or past what Skip skipped.
			switch {
			case NextType(b) == ArrayType || NextType(b) == MapType:
				if _, rest, err = ReadArrayHeader(b); err != nil {
					_, rest, err = ReadMapHeader(b)
				}
				if err != nil {
					rest = b[1:]
				}
				b = rest
			case serr == nil:
				b = skipped
			default:
				b = b[1:]
			}
		}
	}
}

// isRest reports whether rest is a proper suffix of b.
func isRest(b, rest []byte) bool {
	if len(rest) >= len(b) {
		return false
	}
	return len(rest) == 0 || &rest[0] == &b[len(b)-len(rest)]
}

// within reports whether v lies inside b.
func within(b, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= lo && p+uintptr(len(v)) <= lo+uintptr(len(b))
}
