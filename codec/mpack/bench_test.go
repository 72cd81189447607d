package mpack

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/vmihailenco/msgpack/v5"
)

// decodeRequest reads a MessagePack-RPC request [0, msgid, method, params]
// the way a codec does, and returns the method and the elements of params.
func decodeRequest(frame []byte) (method, params []byte, err error) {
	n, b, err := ReadArrayHeader(frame)
	if err != nil || n != 4 {
		return nil, nil, err
	}
	if _, b, err = ReadUint(b); err != nil {
		return nil, nil, err
	}
	if _, b, err = ReadUint(b); err != nil {
		return nil, nil, err
	}
	if method, b, err = ReadStr(b); err != nil {
		return nil, nil, err
	}
	if _, b, err = ReadArrayHeader(b); err != nil {
		return nil, nil, err
	}
	return method, b, nil
}

// BenchmarkWalkRPC: checking a MessagePack-RPC request frame.
func BenchmarkWalkRPC(b *testing.B) {
	in := []byte(rpcRequest)
	var w Walker
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := w.Walk(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRPC: decoding a MessagePack-RPC request frame with the
// readers, to the views of its method and first argument.
func BenchmarkReadRPC(b *testing.B) {
	in := []byte(rpcRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_, params, err := decodeRequest(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ReadStrOrBin(params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkReadRPC: both, as a codec does per frame.
func BenchmarkWalkReadRPC(b *testing.B) {
	in := []byte(rpcRequest)
	var w Walker
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		n, err := w.Walk(in)
		if err != nil {
			b.Fatal(err)
		}
		_, params, err := decodeRequest(in[:n])
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ReadStrOrBin(params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeRPCV5: the same request through msgpack/v5's decoder API,
// for comparison (DESIGN §8: 179 ns).
func BenchmarkDecodeRPCV5(b *testing.B) {
	in := []byte(rpcRequest)
	r := bytes.NewReader(in)
	d := msgpack.NewDecoder(r)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		d.Reset(r)
		if n, err := d.DecodeArrayLen(); err != nil || n != 4 {
			b.Fatal(err)
		}
		if _, err := d.DecodeUint64(); err != nil {
			b.Fatal(err)
		}
		if _, err := d.DecodeUint64(); err != nil {
			b.Fatal(err)
		}
		if _, err := d.DecodeString(); err != nil {
			b.Fatal(err)
		}
		if _, err := d.DecodeArrayLen(); err != nil {
			b.Fatal(err)
		}
		if _, err := d.DecodeBytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendRPCResponse: writing [1, msgid, nil, "hello"].
func BenchmarkAppendRPCResponse(b *testing.B) {
	out := make([]byte, 0, 64)
	arg := []byte("hello")
	b.ReportAllocs()
	for b.Loop() {
		out = AppendStrBytes(AppendNil(AppendUint(AppendUint(AppendArrayHeader(out[:0], 4), 1), 12345)), arg)
	}
	b.SetBytes(int64(len(out)))
}

// pieceFrame is a frame of about 1 MiB that no need hint helps with: an
// array of 32-byte strings, whose lengths the walker learns one by one.
func pieceFrame() []byte {
	const n = (1<<20 - 5) / 34
	b := AppendArrayHeader(make([]byte, 0, 1<<20), n)
	for range n {
		b = AppendStr(b, "0123456789abcdef0123456789abcdef")
	}
	return b
}

// walkPieces walks in as it would arrive, size bytes at a time, calling
// w again only once Need bytes are in.
func walkPieces(w *Walker, in []byte, size int) (int, error) {
	w.Reset()
	for k := size; ; k += size {
		k = min(k, len(in))
		if k < w.Need() && k < len(in) {
			continue
		}
		n, err := w.Walk(in[:k])
		if err != codec.ErrIncomplete || k == len(in) {
			return n, err
		}
	}
}

// BenchmarkWalkPieces: a 1 MiB frame arriving 1 KiB at a time, walked by
// a resuming Walker (linear) and by Walk from the start each time, helped
// by the need hint alone (quadratic, for comparison).
func BenchmarkWalkPieces(b *testing.B) {
	in := pieceFrame()
	b.Run("resume", func(b *testing.B) {
		var w Walker
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if n, err := walkPieces(&w, in, 1024); err != nil || n != len(in) {
				b.Fatal(walkOutcome(n, err))
			}
		}
	})
	b.Run("restart", func(b *testing.B) {
		var w Walker
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			need := 0
			for k := 1024; ; k += 1024 {
				k = min(k, len(in))
				if k < need && k < len(in) {
					continue
				}
				w.Reset() // walks from the start
				n, err := w.Walk(in[:k])
				if err == nil {
					break
				}
				if err != codec.ErrIncomplete || k == len(in) {
					b.Fatal(walkOutcome(n, err))
				}
				need = w.Need()
			}
		}
	})
}
