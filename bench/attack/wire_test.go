package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// unhex decodes the hex of docs/protocols.md, spaces allowed.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFrames checks the builders against the examples of docs/protocols.md.
func TestFrames(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"cocaine invoke echo", appendCocaineInvoke(nil, 2, "echo"), "94 02 00 91 a4 6563686f 90"},
		{"cocaine invoke ping", appendCocaineInvoke(nil, 2, "ping"), "94 02 00 91 a4 70696e67 90"},
		{"cocaine chunk hi", appendCocaineChunk(nil, 2, []byte("hi")), "94 02 00 91 a2 6869 90"},
		{"cocaine chunk params []", appendCocaineChunk(nil, 2, []byte{0x90}), "94 02 00 91 a1 90 90"},
		{"cocaine choke", appendCocaineChoke(nil, 2), "94 02 02 90 90"},
		{"cocaine heartbeat", cocaineHeartbeat, "94 01 00 90 90"},
		{"cocaine chunk head, channel 300", appendCocaineChunkHead(nil, 300, 70000), "94 cd012c 00 91 db 00011170"},
		{"msgpackrpc request", appendRPCRequest(nil, 1, "echo", unhex(t, "91 a2 6869")), "94 00 01 a4 6563686f 91 a2 6869"},
		{"msgpackrpc str request", append(appendRPCStrRequestHead(nil, 1, "echo", 2), "hi"...), "94 00 01 a4 6563686f 91 a2 6869"},
		{"msgpackrpc ping", appendRPCRequest(nil, 70000, "ping", []byte{0x90}), "94 00 ce00011170 a4 70696e67 90"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Errorf("got % x, want % x", tt.got, want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"uint 127", appendUint(nil, 127), "7f"},
		{"uint 128", appendUint(nil, 128), "cc 80"},
		{"uint 256", appendUint(nil, 256), "cd 0100"},
		{"uint 65536", appendUint(nil, 65536), "ce 00010000"},
		{"uint 2^32", appendUint(nil, 1<<32), "cf 0000000100000000"},
		{"str 31", appendStrHeader(nil, 31), "bf"},
		{"str 32", appendStrHeader(nil, 32), "d9 20"},
		{"str 256", appendStrHeader(nil, 256), "da 0100"},
		{"str 1 MiB", appendStrHeader(nil, 1<<20), "db 00100000"},
		{"bin 255", appendBinHeader(nil, 255), "c4 ff"},
		{"bin 256", appendBinHeader(nil, 256), "c5 0100"},
		{"bin 65536", appendBinHeader(nil, 65536), "c6 00010000"},
		{"array 15", appendArrayHeader(nil, 15), "9f"},
		{"array 16", appendArrayHeader(nil, 16), "dc 0010"},
		{"array 65536", appendArrayHeader(nil, 65536), "dd 00010000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Errorf("got % x, want % x", tt.got, want)
			}
		})
	}
}

func TestUnaryParamsData(t *testing.T) {
	d := unaryParamsData(heldChunk)
	if len(d) != heldChunk {
		t.Fatalf("got %d bytes, want %d", len(d), heldChunk)
	}
	if want := unhex(t, "91 c6 000fffba"); !bytes.Equal(d[:6], want) {
		t.Errorf("head got % x, want % x", d[:6], want)
	}
	// One value, the whole of it: the array [bin].
	r := bufio.NewReader(bytes.NewReader(d))
	v, err := readValue(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := v.([]any); !ok || len(a) != 1 {
		t.Errorf("got %s, want an array of one", brief(v))
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("bytes left after the array")
	}
	// The whole chunk frame stays under the 1 MiB frame limit.
	frame := len(appendCocaineChunkHead(nil, 5, heldChunk)) + heldChunk + 1
	if frame > 1<<20 {
		t.Errorf("chunk frame of %d bytes, over 1 MiB", frame)
	}
	if n := len(appendRPCStrRequestHead(nil, 1, "echo", stormFrameStr)) + stormFrameStr; n > 1<<20 {
		t.Errorf("storm frame of %d bytes, over 1 MiB", n)
	}
}

func TestJSONParams(t *testing.T) {
	for _, size := range []int{5, 6, 7, 100, 101, nearBody, closedBody} {
		b := jsonParams(size)
		if len(b) != size {
			t.Errorf("size %d: got %d bytes", size, len(b))
		}
		var v [][]int
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("size %d: %v", size, err)
			continue
		}
		if len(v) != 1 || len(v[0]) == 0 || v[0][0] != 1 {
			t.Errorf("size %d: got %d arrays, want [[1,…]]", size, len(v))
		}
	}
}

func TestStarvePiece(t *testing.T) {
	var stream []byte
	for k := range 4 {
		p := starvePiece("partial", k)
		if len(p) != 5 {
			t.Fatalf("piece %d: %d bytes", k, len(p))
		}
		stream = append(stream, p...)
	}
	want := append(unhex(t, "94 02 00 91 db 000fffc0"), "xxxxxxxxxxx"...)
	if !bytes.Equal(stream, want) {
		t.Errorf("got % x, want % x", stream, want)
	}
	if got := starvePiece("heartbeat", 3); !bytes.Equal(got, cocaineHeartbeat) {
		t.Errorf("heartbeat piece % x", got)
	}
}

// TestTold decodes the server's frames of docs/protocols.md, read whole
// and one byte at a time.
func TestTold(t *testing.T) {
	unknown := "94 04 01 92 92 2a 01 b4" + hex.EncodeToString([]byte(`unknown event "nope"`)) + "90"
	tests := []struct {
		name, in string
		told     func(any) string
		want     string
	}{
		{"heartbeat", "94 01 00 90 90", cocaineTold, ""},
		{"unknown event", unknown, cocaineTold, `error [42,1] "unknown event \"nope\""`},
		{"pong chunk", "94 02 00 91 a5 a4706f6e67 90", cocaineTold, "chunk"},
		{"choke", "94 02 02 90 90", cocaineTold, "choke"},
		{"terminate", "94 01 01 92 01 a3 627965 90", cocaineTold, `terminate [1,"bye"]`},
		{"rpc result", "94 01 01 c0 a2 6869", rpcTold, "result"},
		{"rpc error", "94 01 03 a4 62757379 c0", rpcTold, `error "busy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			for _, r := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in))} {
				v, err := readValue(bufio.NewReaderSize(r, 16), 0)
				if err != nil {
					t.Fatal(err)
				}
				if got := tt.told(v); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// TestReadValueSplit feeds values cut at every point: a cut value is
// io.ErrUnexpectedEOF, never a value.
func TestReadValueSplit(t *testing.T) {
	in := unhex(t, "94 cf0000000100000000 d0ff 92 cb3ff0000000000000 c3 82 a1 61 c0 a1 62 d4 01 02")
	v, err := readValue(bufio.NewReader(bytes.NewReader(in)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := brief(v), `[4294967296,-1,[0,true],{"a":nil,"b":"ext"}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for i := 1; i < len(in); i++ {
		_, err := readValue(bufio.NewReader(bytes.NewReader(in[:i])), 0)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: got %v, want unexpected EOF", i, err)
		}
	}
	if _, err := readValue(bufio.NewReader(bytes.NewReader(nil)), 0); err != io.EOF {
		t.Errorf("empty: got %v, want EOF", err)
	}
	if _, err := readValue(bufio.NewReader(bytes.NewReader([]byte{0xc1})), 0); err == nil {
		t.Errorf("reserved 0xc1: no error")
	}
	deep := bytes.Repeat([]byte{0x91}, 40)
	if _, err := readValue(bufio.NewReader(bytes.NewReader(deep)), 0); !errors.Is(err, errDepth) {
		t.Errorf("deep: got %v, want %v", err, errDepth)
	}
}

func TestReadValueLongString(t *testing.T) {
	in := append(appendStrHeader(nil, 100000), bytes.Repeat([]byte{'y'}, 100000)...)
	in = append(in, 0x07)
	r := bufio.NewReaderSize(bytes.NewReader(in), 64)
	v, err := readValue(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.(string); len(s) != maxText {
		t.Errorf("got %d bytes kept, want %d", len(s), maxText)
	}
	if v, err := readValue(r, 0); err != nil || v != int64(7) {
		t.Errorf("next value: got %v, %v; want 7", v, err)
	}
}

func TestReadHTTPResponse(t *testing.T) {
	in := "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 10\r\n\r\ntimed out\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		br := bufio.NewReaderSize(r, 16)
		resp, err := readHTTPResponse(br)
		if err != nil {
			t.Fatal(err)
		}
		if resp.status != 408 || resp.line != "HTTP/1.1 408 Request Timeout" || !resp.close || resp.n != 10 {
			t.Errorf("got %+v", resp)
		}
		resp, err = readHTTPResponse(br)
		if err != nil || resp.status != 200 || resp.close || resp.n != 13 {
			t.Errorf("got %+v, %v", resp, err)
		}
		if _, err := readHTTPResponse(br); err != io.EOF {
			t.Errorf("at the end: got %v, want EOF", err)
		}
	}
	for _, bad := range []string{"SSH-2.0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "HTTP/1.1 200 OK\r\nContent-Le"} {
		if _, err := readHTTPResponse(bufio.NewReader(strings.NewReader(bad))); err == nil || err == io.EOF {
			t.Errorf("%q: got %v, want an error", bad, err)
		}
	}
}

func TestHTTPPost(t *testing.T) {
	got := string(httpPost("/echo", "application/octet-stream", 4194304))
	want := "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 4194304\r\n\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
