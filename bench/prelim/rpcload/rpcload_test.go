package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		id     uint32
		errVal string
		result string
	}{
		{"fixint id, fixstr", "\x94\x01\x00\xc0\xa3abc", 0, "\xc0", "\xa3abc"},
		{"uint8 id, bin8", "\x94\x01\xcc\xff\xc0\xc4\x02\x01\x02", 255, "\xc0", "\xc4\x02\x01\x02"},
		{"uint32 id, nil", "\x94\x01\xce\xff\xff\xff\xff\xc0\xc0", 1<<32 - 1, "\xc0", "\xc0"},
		{"int8 id, error str", "\x94\x01\xd0\x05\xa1x\xc0", 5, "\xa1x", "\xc0"},
		{"error array", "\x94\x01\x05\x92\x01\xa3bad\xc0", 5, "\x92\x01\xa3bad", "\xc0"},
		{"wide type", "\x94\xcc\x01\xcd\x01\x00\xc0\xd9\x03abc", 256, "\xc0", "\xd9\x03abc"},
		{"map result", "\x94\x01\x07\xc0\x82\xa1a\x01\xa1b\x92\xc3\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 7, "\xc0", "\x82\xa1a\x01\xa1b\x92\xc3\xcb\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"ext result", "\x94\x01\x07\xc0\xc7\x02\x05ab", 7, "\xc0", "\xc7\x02\x05ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in + "\x94") // the start of the next frame is left alone
			r, n, err := parseResponse(in, 1<<20)
			if err != nil || n != len(tt.in) {
				t.Fatalf("got n=%d err=%v, want n=%d", n, err, len(tt.in))
			}
			if r.id != tt.id || string(r.errVal) != tt.errVal || string(r.result) != tt.result {
				t.Errorf("got id %d error %q result %q, want %d %q %q", r.id, r.errVal, r.result, tt.id, tt.errVal, tt.result)
			}
			for i := range len(tt.in) {
				if _, _, err := parseResponse(in[:i], 1<<20); err != errIncomplete {
					t.Errorf("first %d bytes: got %v, want errIncomplete", i, err)
				}
			}
		})
	}
}

func TestParseResponseMalformed(t *testing.T) {
	deep := "\x94\x01\x00\xc0" + strings.Repeat("\x91", 40) + "\xc0"
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{"not an array", "\x93\x01\x00\xc0", 1 << 20},
		{"request", "\x94\x00\x00\xa4echo\x90", 1 << 20},
		{"msgid over 32 bits", "\x94\x01\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xc0\xc0", 1 << 20},
		{"negative msgid", "\x94\x01\xd0\xff\xc0\xc0", 1 << 20},
		{"msgid a str", "\x94\x01\xa1x\xc0\xc0", 1 << 20},
		{"never used byte", "\x94\x01\x00\xc1\xc0", 1 << 20},
		{"too deep", deep, 1 << 20},
		{"str32 past the limit", "\x94\x01\x00\xc0\xdb\xff\xff\xff\xff", 1 << 20},
		{"array32 past the limit", "\x94\x01\x00\xc0\xdd\x7f\xff\xff\xff", 1 << 20},
		{"incomplete at the limit", "\x94\x01\x00\xc0\xd9\x20" + strings.Repeat("x", 10), 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseResponse([]byte(tt.in), tt.max)
			var fe *frameError
			if !errors.As(err, &fe) {
				t.Errorf("got %v, want a frameError", err)
			}
		})
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		for _, kind := range []string{familyStr, familyBin} {
			p := payload(size, kind)
			msg := appendUint([]byte{0x94, 0x00}, 70000)
			msg = append(msg, requestTail("Echo.Echo", kind, p)...)
			q, n, err := parseRequest(msg, 1<<20)
			if err != nil || n != len(msg) {
				t.Fatalf("size %d %s: got n=%d err=%v, want n=%d", size, kind, n, err, len(msg))
			}
			if string(q.method) != "\xa9Echo.Echo" || string(q.id) != "\xce\x00\x01\x11\x70" {
				t.Errorf("size %d %s: got method %q id % x", size, kind, q.method, q.id)
			}
			family, data, ok := strBin(q.param)
			if !ok || family != kind || !bytes.Equal(data, p) {
				t.Errorf("size %d %s: param came back as %s, %d bytes", size, kind, family, len(data))
			}
		}
	}
}

func TestSlots(t *testing.T) {
	for _, n := range []int{1, 2, 3, 64, 100} {
		s := newSlots(n)
		seen := map[uint32]bool{}
		var live []uint32
		for round := range 50 {
			for s.inFlight() < n {
				id := s.take()
				if seen[id] {
					t.Fatalf("depth %d: msgid %d handed out twice", n, id)
				}
				if round == 0 && len(seen) == 0 && id != 0 {
					t.Errorf("depth %d: first msgid %d, want 0", n, id)
				}
				seen[id] = true
				live = append(live, id)
			}
			rand.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
			k := 1 + rand.IntN(len(live))
			for _, id := range live[:k] {
				if !s.release(id) {
					t.Fatalf("depth %d: release(%d) of a call in flight failed", n, id)
				}
				if s.release(id) {
					t.Fatalf("depth %d: release(%d) twice succeeded", n, id)
				}
			}
			live = live[k:]
		}
		if s.release(1 << 31) {
			t.Errorf("depth %d: release of an id never handed out succeeded", n)
		}
	}
}

// server serves answer's reply to every request on a fresh local port.
func server(t *testing.T, answer func(out []byte, q request) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				in := newFrameBuf(64<<10, 1<<20)
				for {
					_, err := in.fill(c)
					var out []byte
					for {
						q, n, perr := parseRequest(in.pending(), 1<<20)
						if perr != nil {
							break
						}
						out = answer(out, q)
						in.consume(n)
					}
					if _, werr := c.Write(out); werr != nil || err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func testConfig(addr string) *config {
	return &config{addr: addr, method: "echo", conns: 3, depth: 16, dur: 100 * time.Millisecond,
		drain: 300 * time.Millisecond, size: 100, kind: familyStr}
}

func TestLoadAgainstFake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveFake(ln, 16<<20)
	for _, depth := range []int{1, 16} {
		for _, size := range []int{0, 100, 70000} {
			for _, kind := range []string{familyStr, familyBin} {
				cfg := testConfig(ln.Addr().String())
				cfg.depth, cfg.size, cfg.kind = depth, size, kind
				s := load(cfg)
				if s.Errors != 0 || s.Calls == 0 {
					t.Errorf("depth %d size %d %s: got %d calls, %d errors (%v, %s), want calls and no errors",
						depth, size, kind, s.Calls, s.Errors, s.ErrorKinds, s.FirstError)
				}
			}
		}
	}
}

func TestLoadCountsErrors(t *testing.T) {
	tests := []struct {
		name   string
		kind   string // the error kind expected
		answer func(out []byte, q request) []byte
	}{
		{"rpc error", "rpc", func(out []byte, q request) []byte {
			return append(append(append(out, 0x94, 0x01), q.id...), "\xa4boom\xc0"...)
		}},
		{"other payload", "mismatch", func(out []byte, q request) []byte {
			return append(append(append(out, 0x94, 0x01), q.id...), "\xc0\xa1x"...)
		}},
		{"bin for str", "mismatch", func(out []byte, q request) []byte {
			_, data, _ := strBin(q.param)
			out = append(append(out, 0x94, 0x01), q.id...)
			return appendStrBin(append(out, 0xc0), familyBin, data)
		}},
		{"wrong msgid", "unknown_id", func(out []byte, q request) []byte {
			return append(append(out, 0x94, 0x01, 0xce, 0xff, 0xff, 0xff, 0xfe, 0xc0), q.param...)
		}},
		{"no answer", "unanswered", func(out []byte, q request) []byte { return out }},
		{"garbage", "malformed", func(out []byte, q request) []byte { return append(out, 0xc1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(testConfig(server(t, tt.answer)))
			if s.ErrorKinds[tt.kind] == 0 || s.Calls != 0 {
				t.Errorf("got %d calls, errors %v, want only %s errors", s.Calls, s.ErrorKinds, tt.kind)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		s := load(testConfig(addr))
		if s.ErrorKinds["connect"] != 3 {
			t.Errorf("got errors %v, want 3 connect errors", s.ErrorKinds)
		}
	})
}
