package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/cocaine"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
)

// unhex reads hex bytes, spaces allowed.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The requests are what docs/protocols.md shows, with the ids in a fixed
// width: [0, msgid, "echo", ["hi"]] with msgid a uint32.
func TestMsgpackRPCRequests(t *testing.T) {
	p := newMsgpackRPC("echo", 2, 4, true)
	c := p.conn()
	got := c.requests(0x01020304, 2)
	want := unhex(t, "94 00 ce01020304 a4 6563686f 91 a2 6162"+
		"94 00 ce01020305 a4 6563686f 91 a2 6162")
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
	if got := c.requests(7, 1); !bytes.Equal(got, unhex(t, "94 00 ce00000007 a4 6563686f 91 a2 6162")) {
		t.Errorf("got % x", got)
	}
}

// A Cocaine call is invoke, chunk [params], choke on channel seq+2, each a
// four-element frame as real clients write, and tokamak's codec reads them
// so.
func TestCocaineRequests(t *testing.T) {
	p := newCocaine("echo", 2, 4, true)
	c := p.conn()
	b := c.requests(5, 2)
	var m cocaine.Message
	for i, want := range []struct {
		ch, typ uint64
		arg     string // the one argument's bytes; "" for none
	}{
		{7, cocaine.TypeInvoke, "echo"}, {7, cocaine.TypeChunk, "\x91\xa2ab"}, {7, cocaine.TypeChoke, ""},
		{8, cocaine.TypeInvoke, "echo"}, {8, cocaine.TypeChunk, "\x91\xa2ab"}, {8, cocaine.TypeChoke, ""},
	} {
		n, err := mpack.Walk(b, mpack.Limits{})
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err := cocaine.V12.Parse(b[:n], &m); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		arg := ""
		if m.NArgs == 1 {
			v, _, err := mpack.ReadStrOrBin(m.Args)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			arg = string(v)
		}
		if m.Channel != want.ch || m.Type != want.typ || arg != want.arg || !bytes.Equal(m.Headers, []byte{0x90}) {
			t.Errorf("frame %d: got %+v arg %q, want %+v", i, m, arg, want)
		}
		b = b[n:]
	}
	if len(b) != 0 {
		t.Errorf("%d bytes left", len(b))
	}
}

// parseCase is one input of a protocol's parser with what it must say.
type parseCase struct {
	name string
	in   string // hex
	err  error
	want reply
}

// checkParse runs the cases on fresh connections that have sent requests
// 0..sent-1 (and, for Cocaine, received what before says), and checks every
// proper prefix of a message that parses is incomplete.
func checkParse(t *testing.T, newConn func() protoConn, sent int, before string, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		c := newConn()
		c.requests(0, sent)
		var r reply
		if before != "" {
			pre := unhex(t, before)
			for len(pre) > 0 {
				n, err := c.parse(pre, &r)
				if err != nil {
					t.Fatalf("%s: before: %v", tc.name, err)
				}
				pre = pre[n:]
			}
		}
		in := unhex(t, tc.in)
		// Prefixes first, on their own connection: a Walker resumes.
		if tc.err == nil {
			p := newConn()
			p.requests(0, sent)
			for i := range len(in) {
				if _, err := p.parse(in[:i], &r); err != errIncomplete {
					t.Errorf("%s: prefix of %d bytes: %v, want incomplete", tc.name, i, err)
					break
				}
			}
		}
		n, err := c.parse(append(in, 0x94), &r) // and a byte of the next message
		if err != tc.err {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && (n != len(in) || r != tc.want) {
			t.Errorf("%s: n=%d %+v, want n=%d %+v", tc.name, n, r, len(in), tc.want)
		}
	}
}

func TestParseMsgpackRPC(t *testing.T) {
	newConn := func() protoConn { return newMsgpackRPC("echo", 2, 8, true).conn() }
	checkParse(t, newConn, 8, "", []parseCase{
		{"ok", "94 01 03 c0 a2 6162", nil, reply{seq: 3}},
		{"ok, msgid as uint32", "94 01 ce00000005 c0 a2 6162", nil, reply{seq: 5}},
		{"ok, str8", "94 01 00 c0 d9 02 6162", nil, reply{seq: 0}},
		{"rpc error", "94 01 02 b4 756e6b6e6f776e206d6574686f642022666f6f22 c0", nil, reply{seq: 2, rpcErr: true}},
		{"rpc error, not a string", "94 01 02 01 c0", nil, reply{seq: 2, rpcErr: true}},
		// The engine tells a msgid not in flight; the parser maps it to
		// the request of that number among the last 2^32.
		{"msgid not sent", "94 01 09 c0 a2 6162", nil, reply{seq: 1<<64 - 1<<32 + 9}},
		{"wrong result", "94 01 03 c0 a2 6163", errMalformed, reply{}},
		{"result as bin", "94 01 03 c0 c4 02 6162", errMalformed, reply{}},
		{"nil result", "94 01 03 c0 c0", errMalformed, reply{}},
		{"a request", "94 00 03 a4 6563686f 91 a2 6162", errMalformed, reply{}},
		{"notification", "93 02 a4 6563686f 90", errMalformed, reply{}},
		{"five elements", "95 01 03 c0 a2 6162 c0", errMalformed, reply{}},
		{"msgid over 2^32", "94 01 cf0000000100000000 c0 a2 6162", errMalformed, reply{}},
		{"negative msgid", "94 01 ff c0 a2 6162", errMalformed, reply{}},
		{"not an array", "a5 68656c6c6f", errMalformed, reply{}},
		{"reserved byte", "c1", errMalformed, reply{}},
		{"array bomb", "94 01 03 c0 dd ffffffff", errMalformed, reply{}},
		{"str over the limit", "94 01 03 c0 db 00010000", errMalformed, reply{}},
		{"http", hex.EncodeToString([]byte("HTTP/1.1 200 OK\r\n")), errMalformed, reply{}},
	})
	// Without -verify any result goes.
	lax := func() protoConn { return newMsgpackRPC("ping", 2, 8, false).conn() }
	checkParse(t, lax, 8, "", []parseCase{
		{"pong", "94 01 03 c0 a4 706f6e67", nil, reply{seq: 3}},
	})
	// Nothing sent: nothing is an answer.
	checkParse(t, newConn, 0, "", []parseCase{
		{"nothing sent", "94 01 00 c0 a2 6162", errMalformed, reply{}},
	})
}

// The msgid is the request's number modulo 2^32, and maps back to the
// number past the wrap.
func TestMsgpackRPCMsgidWraps(t *testing.T) {
	c := newMsgpackRPC("echo", 2, 4, true).conn()
	const seq = 1<<32 - 2
	b := c.requests(seq, 4) // msgids ffff fffe, ffff ffff, 0, 1
	if id := b[2:7]; !bytes.Equal(id, unhex(t, "ce fffffffe")) {
		t.Errorf("first msgid % x", id)
	}
	for i, in := range []string{"94 01 ceffffffff c0 a2 6162", "94 01 00 c0 a2 6162", "94 01 01 c0 a2 6162", "94 01 cefffffffe c0 a2 6162"} {
		var r reply
		if _, err := c.parse(unhex(t, in), &r); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if want := []uint64{seq + 1, seq + 2, seq + 3, seq}[i]; r.seq != want {
			t.Errorf("%s: seq %d, want %d", in, r.seq, want)
		}
	}
}

func TestParseCocaine(t *testing.T) {
	newConn := func() protoConn { return newCocaine("echo", 2, 8, true).conn() }
	const (
		chunk2 = "94 02 00 91 a4 91a26162 90" // the params back: a stream echo
		choke2 = "94 02 02 90 90"
	)
	checkParse(t, newConn, 4, "", []parseCase{
		{"chunk, params", chunk2, nil, reply{none: true}},
		{"chunk, payload", "94 03 00 91 a3 a26162 90", nil, reply{none: true}},
		{"chunk, three elements", "93 02 00 91 a4 91a26162", nil, reply{none: true}},
		{"chunk as bin", "94 02 00 91 c4 04 91a26162 90", nil, reply{none: true}},
		{"error", "94 02 01 92 92 2a 01 a1 78 90", nil, reply{seq: 0, rpcErr: true}},
		{"error, negative code", "94 05 01 92 92 2a ff a1 78 90", nil, reply{seq: 3, rpcErr: true}},
		{"heartbeat", "94 01 00 90 90", nil, reply{none: true}},
		{"terminate", "94 01 01 92 01 a3 627965 90", nil, reply{none: true, close: true}},
		{"choke before a chunk", choke2, errMalformed, reply{}},
		{"wrong chunk", "94 02 00 91 a4 91a26163 90", errMalformed, reply{}},
		{"chunk of two", "94 02 00 92 a2 6162 a2 6162 90", errMalformed, reply{}},
		{"chunk not bytes", "94 02 00 91 01 90", errMalformed, reply{}},
		{"error, bad args", "94 02 01 92 01 a1 78 90", errMalformed, reply{}},
		{"channel not sent", "94 06 00 91 a4 91a26162 90", errMalformed, reply{}},
		{"channel 0", "94 00 00 91 a4 91a26162 90", errMalformed, reply{}},
		{"unknown type", "94 02 03 90 90", errMalformed, reply{}},
		{"control, other", "94 01 00 91 01 90", errMalformed, reply{}},
		{"v0.11 layout", "93 04 02 91 a4 91a26162", errMalformed, reply{}},
		{"msgpack-rpc", "94 01 03 c0 a2 6162", errMalformed, reply{}},
		{"array bomb", "94 02 00 dd ffffffff", errMalformed, reply{}},
		{"garbage", "c1 00 00", errMalformed, reply{}},
	})
	// After the chunk: choke answers the call; a second chunk is wrong.
	checkParse(t, newConn, 4, chunk2, []parseCase{
		{"choke", choke2, nil, reply{seq: 0}},
		{"error after the chunk", "94 02 01 92 92 2a 01 a1 78 90", nil, reply{seq: 0, rpcErr: true}},
		{"second chunk", chunk2, errMalformed, reply{}},
		{"choke with args", "94 02 02 91 01 90", errMalformed, reply{}},
	})
	// After the answer the channel is closed.
	checkParse(t, newConn, 4, chunk2+choke2, []parseCase{
		{"chunk after choke", chunk2, errMalformed, reply{}},
		{"choke after choke", choke2, errMalformed, reply{}},
	})
	lax := func() protoConn { return newCocaine("ping", 2, 8, false).conn() }
	checkParse(t, lax, 4, "", []parseCase{
		{"pong", "94 02 00 91 a5 a4706f6e67 90", nil, reply{none: true}},
		{"choke alone", choke2, nil, reply{seq: 0}},
	})
}

// FuzzParseRPC feeds both RPC parsers arbitrary bytes, whole and in two
// reads as the engines give them (a message cut by the first read is
// parsed again, grown): they never panic, take no more than they are
// given, and the split changes nothing of what they find.
func FuzzParseRPC(f *testing.F) {
	f.Add([]byte("\x94\x01\x03\xc0\xa2ab"), 3, false)
	f.Add([]byte("\x94\x02\x00\x91\xa3\x91\xa2ab\x90\x94\x02\x02\x90\x90"), 9, true)
	f.Add([]byte("\x94\x01\x03\xc0\xdd\xff\xff\xff\xff"), 5, false)
	f.Fuzz(func(t *testing.T, b []byte, split int, coc bool) {
		if split < 0 || split > len(b) {
			split = len(b)
		}
		type verdict struct {
			n   int
			err error
			r   reply
		}
		run := func(split int) []verdict {
			var c protoConn
			if coc {
				c = newCocaine("echo", 2, 4, true).conn()
			} else {
				c = newMsgpackRPC("echo", 2, 4, true).conn()
			}
			c.requests(0, 4)
			var vs []verdict
			pos, avail := 0, split
			for pos < len(b) {
				var r reply
				n, err := c.parse(b[pos:avail], &r)
				if err == errIncomplete && avail < len(b) {
					avail = len(b)
					continue
				}
				if err == nil && (n <= 0 || pos+n > avail) {
					t.Fatalf("took %d of %d bytes", n, avail-pos)
				}
				vs = append(vs, verdict{n, err, r})
				if err != nil {
					break
				}
				pos += n
			}
			return vs
		}
		whole, parts := run(len(b)), run(split)
		if len(whole) != len(parts) {
			t.Fatalf("split at %d: %v, whole: %v", split, parts, whole)
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("split at %d: message %d: %+v, whole: %+v", split, i, parts[i], whole[i])
			}
		}
	})
}

// call is one RPC a test server received.
type call struct {
	id     uint64 // msgid or channel
	method string
	param  []byte // MessagePack-RPC: the first param; Cocaine: the chunk's data
}

// rpcServer serves each connection of a test server: it hands the calls
// that each read completes to answer, and writes what it returns; answer
// may also write to w itself, under mu, from another goroutine.
type rpcServer struct {
	cocaine bool
	answer  func(w *syncWriter, calls []call) []byte
}

// syncWriter writes to a connection from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	c  net.Conn
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Write(b)
}

func (s rpcServer) serve(c net.Conn) {
	w := &syncWriter{c: c}
	buf := make([]byte, 64<<10)
	var pending []byte
	open := map[uint64]*call{} // Cocaine channels
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		pending = append(pending, buf[:n]...)
		var calls []call
		for {
			k, err := mpack.Walk(pending, mpack.Limits{})
			if err == codec.ErrIncomplete {
				break
			}
			if err != nil {
				return
			}
			frame := pending[:k]
			pending = pending[k:]
			if s.cocaine {
				var m cocaine.Message
				if cocaine.V12.Parse(frame, &m) != nil {
					return
				}
				arg, _, _ := mpack.ReadStrOrBin(m.Args)
				switch cl := open[m.Channel]; {
				case cl == nil:
					open[m.Channel] = &call{id: m.Channel, method: string(arg)}
				case m.Type == cocaine.TypeChunk:
					cl.param = bytes.Clone(arg)
				case m.Type == cocaine.TypeChoke:
					calls = append(calls, *cl)
					delete(open, m.Channel)
				}
				continue
			}
			_, p, _ := mpack.ReadArrayHeader(frame)
			_, p, _ = mpack.ReadUint(p)
			id, p, _ := mpack.ReadUint(p)
			method, p, _ := mpack.ReadStr(p)
			_, p, _ = mpack.ReadArrayHeader(p)
			rest, _ := mpack.Skip(p)
			calls = append(calls, call{id: id, method: string(method), param: bytes.Clone(p[:len(p)-len(rest)])})
		}
		pending = bytes.Clone(pending)
		if len(calls) > 0 {
			if out := s.answer(w, calls); len(out) > 0 {
				if _, err := w.Write(out); err != nil {
					return
				}
			}
		}
	}
}

// answerRPC appends the answer to cl: the result when errMsg is "", else
// the error. For Cocaine the result is the chunk's data, and the answer
// chunk then choke, or an error.
func answerRPC(dst []byte, coc bool, cl call, result []byte, errMsg string) []byte {
	if coc {
		if errMsg != "" {
			return cocaine.V12.AppendError(dst, cl.id, 42, 1, errMsg)
		}
		dst = cocaine.V12.AppendChunk(dst, cl.id, result)
		return cocaine.V12.AppendChoke(dst, cl.id)
	}
	if errMsg != "" {
		return msgpackrpc.AppendError(dst, uint32(cl.id), errMsg)
	}
	return msgpackrpc.AppendResult(dst, uint32(cl.id), result)
}

// echo answers every call with its param, in order.
func echo(coc bool) func(*syncWriter, []call) []byte {
	return func(_ *syncWriter, calls []call) []byte {
		var out []byte
		for _, cl := range calls {
			out = answerRPC(out, coc, cl, cl.param, "")
		}
		return out
	}
}

// rpcURL is the load tool's URL for a test server at addr.
func rpcURL(coc bool, addr string) string {
	if coc {
		return "cocaine://" + addr
	}
	return "msgpackrpc://" + addr
}

// forRPC runs test once per RPC protocol.
func forRPC(t *testing.T, test func(t *testing.T, coc bool)) {
	for _, coc := range []bool{false, true} {
		name := "msgpackrpc"
		if coc {
			name = "cocaine"
		}
		t.Run(name, func(t *testing.T) { test(t, coc) })
	}
}

// A server may answer the calls of a batch in any order: answered in
// reverse, every call is matched by its id and counted once.
func TestRPCOutOfOrder(t *testing.T) {
	forRPC(t, func(t *testing.T, coc bool) {
		reverse := func(w *syncWriter, calls []call) []byte {
			slices.Reverse(calls)
			return echo(coc)(w, calls)
		}
		addr := rawServer(t, rpcServer{cocaine: coc, answer: reverse}.serve)
		forEngine(t, func(t *testing.T, engine string) {
			res, code := runLoad(t, "-engine", engine, "-c", "3", "-pipeline", "16", "-n", "4003", rpcURL(coc, addr))
			if code != 0 || res.Requests != 4003 || res.Errors.total() != 0 {
				t.Fatalf("exit %d, %+v", code, res)
			}
		})
		// In the open loop, the window lets calls pass each other too.
		res, code := runLoad(t, "-c", "2", "-pipeline", "8", "-rate", "4000", "-n", "800", rpcURL(coc, addr))
		if code != 0 || res.Requests != 800 || res.Errors.total() != 0 {
			t.Fatalf("-rate: exit %d, %+v", code, res)
		}
	})
}

// A server that answers badly gets errors of the right kind, not speed:
// an RPC error is an answer, counted, and an error of its own kind; a
// wrong result, an answer to a call not in flight, garbage or a close
// with calls in flight are errors and cost the connection.
func TestRPCMisbehavingServers(t *testing.T) {
	forRPC(t, func(t *testing.T, coc bool) {
		answerEach := func(f func(dst []byte, cl call) []byte) func(*syncWriter, []call) []byte {
			return func(_ *syncWriter, calls []call) []byte {
				var out []byte
				for _, cl := range calls {
					out = f(out, cl)
				}
				return out
			}
		}
		for _, tc := range []struct {
			name     string
			answer   func(*syncWriter, []call) []byte
			kind     func(e errorCounts) uint64
			answered bool // the calls are counted as answered
		}{
			{"rpc error", answerEach(func(dst []byte, cl call) []byte { return answerRPC(dst, coc, cl, nil, "nope") }),
				func(e errorCounts) uint64 { return e.RPC }, true},
			{"wrong result", answerEach(func(dst []byte, cl call) []byte { return answerRPC(dst, coc, cl, []byte("\xa1x"), "") }),
				func(e errorCounts) uint64 { return e.Protocol }, false},
			{"unknown id", answerEach(func(dst []byte, cl call) []byte {
				cl.id += 1000
				return answerRPC(dst, coc, cl, cl.param, "")
			}), func(e errorCounts) uint64 { return e.Protocol }, false},
			{"twice", answerEach(func(dst []byte, cl call) []byte {
				dst = answerRPC(dst, coc, cl, cl.param, "")
				return answerRPC(dst, coc, cl, cl.param, "")
			}), func(e errorCounts) uint64 { return e.Protocol }, true}, // the first answers count
			{"garbage", answerEach(func(dst []byte, cl call) []byte { return append(dst, "HTTP/1.1 200 OK\r\n\r\n"...) }),
				func(e errorCounts) uint64 { return e.Protocol }, false},
			{"bomb", answerEach(func(dst []byte, cl call) []byte { return append(dst, 0x94, 0x01, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff) }),
				func(e errorCounts) uint64 { return e.Protocol }, false},
			{"closes", func(w *syncWriter, _ []call) []byte { w.c.Close(); return nil },
				func(e errorCounts) uint64 { return e.Closed }, false},
			{"silent", func(*syncWriter, []call) []byte { return nil },
				func(e errorCounts) uint64 { return e.Timeout }, false},
		} {
			addr := rawServer(t, rpcServer{cocaine: coc, answer: tc.answer}.serve)
			t.Run(tc.name, func(t *testing.T) {
				forEngine(t, func(t *testing.T, engine string) {
					res, code := runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "4", "-d", "300ms", "-timeout", "100ms", rpcURL(coc, addr))
					if code != 1 || tc.kind(res.Errors) == 0 {
						t.Errorf("exit %d, errors %+v: want exit 1 and errors of the kind", code, res.Errors)
					}
					if tc.answered != (res.Requests > 0) {
						t.Errorf("%d calls counted", res.Requests)
					}
				})
			})
		}
	})
}

// Answers that arrive a byte at a time, or larger than a first leftover
// buffer in pieces, are put together across reads.
func TestRPCSplitAnswers(t *testing.T) {
	forRPC(t, func(t *testing.T, coc bool) {
		for _, tc := range []struct{ size, piece, n int }{{5, 1, 20}, {6000, 997, 30}} {
			dribble := func(w *syncWriter, calls []call) []byte {
				out := echo(coc)(w, calls)
				for len(out) > 0 {
					k := min(len(out), tc.piece)
					if _, err := w.Write(out[:k]); err != nil {
						return nil
					}
					out = out[k:]
					time.Sleep(20 * time.Microsecond)
				}
				return nil
			}
			addr := rawServer(t, rpcServer{cocaine: coc, answer: dribble}.serve)
			forEngine(t, func(t *testing.T, engine string) {
				res, code := runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "3", "-size", fmt.Sprint(tc.size),
					"-n", fmt.Sprint(tc.n), rpcURL(coc, addr))
				if code != 0 || res.Requests != uint64(tc.n) || res.Errors.total() != 0 {
					t.Fatalf("-size %d: exit %d, %+v", tc.size, code, res)
				}
			})
		}
	})
}

// The RPC closed loop keeps -pipeline calls in flight: each answer is
// replaced at once. This server answers only when it holds four calls,
// and then only the oldest: a client that waited for a whole batch before
// sending more would wait forever.
func TestRPCKeepsPipelineInFlight(t *testing.T) {
	forRPC(t, func(t *testing.T, coc bool) {
		var mu sync.Mutex
		most := 0
		full := func() func(*syncWriter, []call) []byte {
			var held []call
			return func(w *syncWriter, calls []call) []byte {
				held = append(held, calls...)
				mu.Lock()
				most = max(most, len(held))
				mu.Unlock()
				var out []byte
				for len(held) >= 4 {
					out = answerRPC(out, coc, held[0], held[0].param, "")
					held = held[1:]
				}
				return out
			}
		}
		addr := rawServer(t, func(c net.Conn) { rpcServer{cocaine: coc, answer: full()}.serve(c) })
		forEngine(t, func(t *testing.T, engine string) {
			res, code := runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "4", "-d", "300ms", "-timeout", "100ms", rpcURL(coc, addr))
			if code != 0 || res.Requests < 100 || res.Errors.total() != 0 {
				t.Fatalf("exit %d, %+v", code, res)
			}
		})
		mu.Lock()
		defer mu.Unlock()
		if most != 4 {
			t.Errorf("the server held up to %d calls, want 4", most)
		}
	})
}
