package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Encoders append to dst, like strconv's. The frames follow docs/protocols.md;
// wire_test.go checks them against its examples byte for byte.

// appendUint appends v as a msgpack unsigned integer in its shortest form.
func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v <= 0xff:
		return append(dst, 0xcc, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
}

// appendStrHeader appends the header of a msgpack str of n bytes.
func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= 0xff:
		return append(dst, 0xd9, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xda), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdb), uint32(n))
}

func appendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

// appendBinHeader appends the header of a msgpack bin of n bytes.
func appendBinHeader(dst []byte, n int) []byte {
	switch {
	case n <= 0xff:
		return append(dst, 0xc4, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
}

// appendArrayHeader appends the header of a msgpack array of n elements.
func appendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdd), uint32(n))
}

// cocaineHeartbeat is [1, 0, [], []], the Cocaine heartbeat (5 bytes).
var cocaineHeartbeat = []byte{0x94, 0x01, 0x00, 0x90, 0x90}

// appendCocaineInvoke appends the invoke [ch, 0, [event], []].
func appendCocaineInvoke(dst []byte, ch uint64, event string) []byte {
	dst = append(dst, 0x94)
	dst = appendUint(dst, ch)
	dst = append(dst, 0x00, 0x91)
	dst = appendStr(dst, event)
	return append(dst, 0x90)
}

// appendCocaineChunkHead appends the start of the chunk [ch, 0, [data], []]
// for n bytes of data, sent in the str family as clients do; the data and
// then the headers byte 0x90 follow it.
func appendCocaineChunkHead(dst []byte, ch uint64, n int) []byte {
	dst = append(dst, 0x94)
	dst = appendUint(dst, ch)
	dst = append(dst, 0x00, 0x91)
	return appendStrHeader(dst, n)
}

// appendCocaineChunk appends the whole chunk [ch, 0, [data], []].
func appendCocaineChunk(dst []byte, ch uint64, data []byte) []byte {
	dst = appendCocaineChunkHead(dst, ch, len(data))
	dst = append(dst, data...)
	return append(dst, 0x90)
}

// appendCocaineChoke appends the choke [ch, 2, [], []].
func appendCocaineChoke(dst []byte, ch uint64) []byte {
	dst = append(dst, 0x94)
	dst = appendUint(dst, ch)
	return append(dst, 0x02, 0x90, 0x90)
}

// appendRPCRequest appends the MessagePack-RPC request [0, msgid, method,
// params], params being one encoded msgpack array.
func appendRPCRequest(dst []byte, msgid uint32, method string, params []byte) []byte {
	dst = append(dst, 0x94, 0x00)
	dst = appendUint(dst, uint64(msgid))
	dst = appendStr(dst, method)
	return append(dst, params...)
}

// appendRPCStrRequestHead appends the start of [0, msgid, method, [s]] for
// a str s of n bytes; the n bytes of s complete the frame.
func appendRPCStrRequestHead(dst []byte, msgid uint32, method string, n int) []byte {
	dst = append(dst, 0x94, 0x00)
	dst = appendUint(dst, uint64(msgid))
	dst = appendStr(dst, method)
	dst = append(dst, 0x91)
	return appendStrHeader(dst, n)
}

// unaryParamsData returns the data of a Cocaine params chunk of exactly n
// bytes: the msgpack array [bin] whose bin fills the rest (zeros), so that
// the chunk carries one well-formed params array, as a unary call's must.
// n must be at least 6.
func unaryParamsData(n int) []byte {
	b := make([]byte, 0, n)
	b = append(b, 0x91)
	b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n-6))
	return b[:n]
}

// Requests and bodies.

// httpPost returns the head of a POST with a body of n bytes.
func httpPost(path, contentType string, n int) []byte {
	return fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, contentType, n)
}

// plaintextRequest is the bystanders' and probes' request.
const plaintextRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

// jsonParams returns a JSON params array of exactly size bytes holding one
// array of numbers, [[1,1,…,1]], padded with spaces before the closing
// brackets: the numbers convert to one-byte msgpack integers. size must be
// at least 5.
func jsonParams(size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, "[[1"...)
	for len(b)+2+2 <= size {
		b = append(b, ",1"...)
	}
	for len(b)+2 < size {
		b = append(b, ' ')
	}
	return append(b, "]]"...)
}

// filler returns n bytes of 'x', the shared read-only payload that
// attackers slice; nothing may write to it.
func filler(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }

// Decoding. The server's answers to attackers are small (heartbeats, error
// frames, status lines), so a streaming reader over a bufio.Reader with a
// small buffer is enough; long strings are cut to maxText bytes and the
// rest skipped, never buffered.

const maxText = 200

var errDepth = errors.New("msgpack: nested too deep")

// readValue reads one msgpack value from r. Strings and bins come back as
// string (cut to maxText bytes), integers as int64 or uint64, arrays as
// []any, maps as [][2]any, nil as nil. Nothing is allocated from a declared
// length beyond maxText.
func readValue(r *bufio.Reader, depth int) (any, error) {
	if depth > 16 {
		return nil, errDepth
	}
	c, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	be := func(n int) (uint64, error) {
		var v uint64
		for range n {
			b, err := r.ReadByte()
			if err != nil {
				return 0, noEOF(err)
			}
			v = v<<8 | uint64(b)
		}
		return v, nil
	}
	text := func(n uint64) (any, error) {
		keep := min(n, maxText)
		buf := make([]byte, keep)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, noEOF(err)
		}
		if _, err := r.Discard(int(n - keep)); err != nil {
			return nil, noEOF(err)
		}
		return string(buf), nil
	}
	array := func(n uint64) (any, error) {
		var a []any
		for range n {
			v, err := readValue(r, depth+1)
			if err != nil {
				return nil, noEOF(err)
			}
			if len(a) < 64 {
				a = append(a, v)
			}
		}
		return a, nil
	}
	mapping := func(n uint64) (any, error) {
		var m [][2]any
		for range n {
			k, err := readValue(r, depth+1)
			if err != nil {
				return nil, noEOF(err)
			}
			v, err := readValue(r, depth+1)
			if err != nil {
				return nil, noEOF(err)
			}
			if len(m) < 64 {
				m = append(m, [2]any{k, v})
			}
		}
		return m, nil
	}
	sized := func(width int, f func(uint64) (any, error)) (any, error) {
		n, err := be(width)
		if err != nil {
			return nil, err
		}
		return f(n)
	}
	switch {
	case c < 0x80:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xe0 == 0xa0:
		return text(uint64(c & 0x1f))
	case c&0xf0 == 0x90:
		return array(uint64(c & 0x0f))
	case c&0xf0 == 0x80:
		return mapping(uint64(c & 0x0f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xd9:
		return sized(1, text)
	case 0xc5, 0xda:
		return sized(2, text)
	case 0xc6, 0xdb:
		return sized(4, text)
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := be(1 << (c - 0xcc))
		return v, err
	case 0xd0, 0xd1, 0xd2, 0xd3:
		w := 1 << (c - 0xd0)
		v, err := be(w)
		shift := 64 - 8*w
		return int64(v<<shift) >> shift, err
	case 0xca, 0xcb:
		_, err := be(4 << (c - 0xca))
		return float64(0), err // the value is never needed here
	case 0xdc:
		return sized(2, array)
	case 0xdd:
		return sized(4, array)
	case 0xde:
		return sized(2, mapping)
	case 0xdf:
		return sized(4, mapping)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext
		_, err := r.Discard(1 + 1<<(c-0xd4))
		return "ext", noEOF(err)
	case 0xc7, 0xc8, 0xc9:
		n, err := be(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		_, err = r.Discard(1 + int(n))
		return "ext", noEOF(err)
	}
	return nil, fmt.Errorf("msgpack: reserved byte 0x%02x", c)
}

// noEOF turns an EOF inside a value into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case int64:
		return uint64(x), x >= 0
	case uint64:
		return x, true
	}
	return 0, false
}

// cocaineTold describes a frame a Cocaine server sent: "" for a heartbeat
// (nothing to report), else the message, e.g. `error [42,3] "busy"`.
func cocaineTold(v any) string {
	f, ok := v.([]any)
	if !ok || len(f) < 3 {
		return fmt.Sprintf("not a frame: %s", brief(v))
	}
	ch, ok1 := asUint(f[0])
	typ, ok2 := asUint(f[1])
	args, _ := f[2].([]any)
	if !ok1 || !ok2 {
		return fmt.Sprintf("not a frame: %s", brief(v))
	}
	switch {
	case ch == 1 && typ == 0 && len(args) == 0:
		return "" // heartbeat answer
	case ch == 1 && typ == 1:
		return "terminate " + brief(args)
	case typ == 1 && len(args) == 2:
		cc, _ := args[0].([]any)
		if len(cc) == 2 {
			return fmt.Sprintf("error [%s,%s] %s", brief(cc[0]), brief(cc[1]), brief(args[1]))
		}
	case typ == 2:
		return "choke"
	case typ == 0:
		return "chunk"
	}
	return "frame " + brief(v)
}

// rpcTold describes a MessagePack-RPC response: "result" or its error.
func rpcTold(v any) string {
	f, ok := v.([]any)
	if !ok || len(f) != 4 {
		return "not a response: " + brief(v)
	}
	if f[2] != nil {
		return "error " + brief(f[2])
	}
	return "result"
}

// brief renders a decoded value compactly: strings quoted, arrays in
// brackets.
func brief(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = brief(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case [][2]any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = brief(e[0]) + ":" + brief(e[1])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

// httpResponse is what readHTTPResponse learned of one response.
type httpResponse struct {
	status int    // the status code
	line   string // the status line, e.g. "HTTP/1.1 408 Request Timeout"
	close  bool   // Connection: close
	n      int64  // body bytes read
}

// readHTTPResponse reads one response from r: the head, then a body framed
// by Content-Length (discarded), or none for a response without one but
// with Connection: close, whose body runs to the end of the stream and is
// left unread.
func readHTTPResponse(r *bufio.Reader) (httpResponse, error) {
	var resp httpResponse
	line, err := readLine(r)
	if err != nil {
		return resp, err
	}
	resp.line = line
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 {
		return resp, fmt.Errorf("not an HTTP status line: %q", cut(line))
	}
	if resp.status, err = strconv.Atoi(code); err != nil {
		return resp, fmt.Errorf("not an HTTP status line: %q", cut(line))
	}
	clen := int64(-1)
	for {
		h, err := readLine(r)
		if err != nil {
			return resp, noEOF(err)
		}
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Content-Length"):
			if clen, err = strconv.ParseInt(v, 10, 64); err != nil || clen < 0 {
				return resp, fmt.Errorf("bad Content-Length %q", cut(v))
			}
		case strings.EqualFold(k, "Connection"):
			resp.close = strings.EqualFold(v, "close")
		case strings.EqualFold(k, "Transfer-Encoding"):
			return resp, fmt.Errorf("unexpected Transfer-Encoding %q", cut(v))
		}
	}
	if clen > 0 {
		n, err := io.CopyN(io.Discard, r, clen)
		resp.n = n
		if err != nil {
			return resp, noEOF(err)
		}
	}
	return resp, nil
}

// readLine reads a CRLF-terminated line of at most 8 KiB, without the CRLF.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if len(line) > 0 {
				return "", noEOF(err)
			}
			return "", err
		}
		if len(line) > 8<<10 {
			return "", errors.New("header line over 8 KiB")
		}
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func cut(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
