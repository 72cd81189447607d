package cocaine

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// seeds are inputs for the fuzz targets: the exchanges and golden frames
// of the tests, and malformed ones.
func seeds(t testing.TB) [][]byte {
	s := [][]byte{
		exchange,
		join(invoke(1, "echo"), chunk(1, "py"), choke(1), V12.AppendHeartbeat(nil), V12.AppendTerminate(nil, 1, "x")),
		join(invoke(2, "slow"), chunk(2, "\x91\x01"), choke(2), invoke(3, "count"), peerError(3, 1, 2, "e")),
		join(invoke(2, "chunkpanic"), chunk(2, "x"), invoke(3, "refuse"), unhex(t, "94 03 07 90 90"), choke(3)),
		unhex(t, hexHandshake+hexV11Invoke+hexV11Chunk+hexV11Choke+hexV11Heartbeat),
		join(invoke(2, "keeper"), chunk(2, "a"), invoke(3, "keeper"), chunk(2, "b"), choke(2), peerError(3, 1, 2, "e"), chunk(3, "late")),
		unhex(t, "94 02 00 dd ff ff ff ff"),
		unhex(t, "94 02 00 91 a4 65 63 68 6f 90 94 02 00 91 c4 02 68 69 90"),
	}
	return s
}

// checkOutput checks what a session sent: whole frames, and on each
// channel above 1 only chunk, error and choke, nothing after a choke or
// an error. Channel 1 also carries the control answers.
func checkOutput(t *testing.T, v Version, out []byte) {
	ended := map[uint64]bool{}
	for len(out) > 0 {
		n, err := mpack.Walk(out, mpack.Limits{MaxFrame: mpack.MaxFrameLimit})
		if err != nil {
			t.Fatalf("output is not msgpack: %v", err)
		}
		var m Message
		if err := v.Parse(out[:n], &m); err != nil {
			t.Fatalf("output frame %q: %v", out[:n], err)
		}
		if v == V12 && m.Headers == nil {
			t.Fatalf("output frame %q without headers", out[:n])
		}
		t12 := m.Type
		if v == V11 {
			if m.Channel == 0 {
				out = out[n:]
				continue // heartbeat, terminate
			}
			t12 = m.Type - V11Chunk
		}
		if m.Channel == 0 || t12 > TypeChoke {
			t.Fatalf("output frame %q outside the graph", out[:n])
		}
		if m.Channel > 1 {
			if ended[m.Channel] {
				t.Fatalf("output frame %q after the channel ended", out[:n])
			}
			ended[m.Channel] = t12 != TypeChunk
		}
		out = out[n:]
	}
}

// fuzzRun feeds in to a fresh session in two parts, split at split (or
// byte by byte when bytewise), runs the offloaded calls, and returns the
// output and whether the connection closed.
func fuzzRun(t *testing.T, c *Codec, pool *fakePool, in []byte, split int, bytewise bool) ([]byte, bool) {
	d := newDriver(t, c)
	if bytewise {
		for i := range in {
			d.feed(in[i : i+1])
		}
	} else {
		d.feed(in[:split])
		d.feed(in[split:])
	}
	d.flush()
	pool.run()
	d.runPosts()
	d.s.Close()
	return d.out, d.closed
}

func FuzzSession(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint16(len(s)/2), false)
	}
	f.Add(unhex(f, hexV11Invoke+hexV11Chunk+hexV11Error+"93 03 02 91 a4 73 6c 6f 77 93 06 02 90"), uint16(5), true)
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, in []byte, split uint16, v11 bool) {
		ver := V12
		if v11 {
			ver = V11
		}
		pool := &fakePool{cap: 2}
		c := newCodec(t, reg, Options{Version: ver, MaxChannels: 8, MaxBuffered: 256}, pool, codec.Limits{MaxFrame: 4096})
		at := int(split) % (len(in) + 1)
		whole, wclosed := fuzzRun(t, c, pool, in, len(in), false)
		checkOutput(t, ver, whole)
		got, closed := fuzzRun(t, c, pool, in, at, false)
		if !bytes.Equal(got, whole) || closed != wclosed {
			t.Fatalf("split at %d: got %q (closed %v), want %q (closed %v)", at, got, closed, whole, wclosed)
		}
		if len(in) <= 256 {
			got, closed = fuzzRun(t, c, pool, in, 0, true)
			if !bytes.Equal(got, whole) || closed != wclosed {
				t.Fatalf("byte by byte: got %q (closed %v), want %q (closed %v)", got, closed, whole, wclosed)
			}
		}
	})
}

func FuzzLocator(f *testing.F) {
	for _, s := range []string{hexResolveEcho, hexResolveNope, hexResolveLocator, hexHeartbeat, hexTerminate,
		"94 02 01 91 a2 69 64 90", "94 02 00 92 a4 65 63 68 6f a4 73 65 65 64 90", "94 02 00 91 dd ff ff ff ff"} {
		f.Add(unhex(f, s+hexResolveEcho), uint16(3))
	}
	c := newLocator(f, listeners("cocaine://0.0.0.0:10054", "cocaine-locator://127.0.0.1:10053"))
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		run := func(at int) ([]byte, bool) {
			d := newDriver(t, c)
			d.feed(in[:at])
			d.feed(in[at:])
			d.flush()
			d.s.Close()
			return d.out, d.closed
		}
		whole, wclosed := run(len(in))
		at := int(split) % (len(in) + 1)
		if got, closed := run(at); !bytes.Equal(got, whole) || closed != wclosed {
			t.Fatalf("split at %d: got %q (closed %v), want %q (closed %v)", at, got, closed, whole, wclosed)
		}
		seen := map[uint64]bool{}
		for out := whole; len(out) > 0; {
			n, err := mpack.Walk(out, mpack.Limits{MaxFrame: mpack.MaxFrameLimit})
			if err != nil {
				t.Fatalf("output is not msgpack: %v", err)
			}
			var m Message
			if err := V12.Parse(out[:n], &m); err != nil {
				t.Fatalf("output frame %q: %v", out[:n], err)
			}
			control := m.Channel == 1 && m.Type <= TypeTerminate && (m.NArgs == 0 || m.NArgs == 2 && mpack.NextType(m.Args) != mpack.ArrayType)
			switch {
			case m.Type > TypeError:
				t.Fatalf("output frame %q outside the graph", out[:n])
			case control:
			case seen[m.Channel]:
				t.Fatalf("two answers on channel %d", m.Channel)
			case m.Type == TypeValue && m.NArgs != 3:
				t.Fatalf("value %q is not [endpoints, version, graph]", out[:n])
			}
			seen[m.Channel] = !control
			out = out[n:]
		}
	})
}
