package http1

import (
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// wrkGet is the request wrk sends for the plaintext benchmark.
const wrkGet = "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n\r\n"

// browserGet is a heavier head, as a browser sends it.
const browserGet = "GET /static/app.js?v=1234 HTTP/1.1\r\nHost: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://www.example.com/\r\nConnection: keep-alive\r\n" +
	"Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n" +
	"Sec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\n\r\n"

func benchmarkParseHead(b *testing.B, in string) {
	p := NewParser(codec.Limits{})
	buf := []byte(in)
	req := &handlers.Request{Headers: make([]handlers.Header, 0, p.lim.MaxHeaders)}
	var h Head
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Reset()
		if _, err := p.ParseHead(buf, req, &h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHead(b *testing.B)        { benchmarkParseHead(b, wrkGet) }
func BenchmarkParseHeadBrowser(b *testing.B) { benchmarkParseHead(b, browserGet) }

func BenchmarkParseChunked(b *testing.B) {
	p := NewParser(codec.Limits{})
	orig := []byte(strings.Repeat("400\r\n"+strings.Repeat("x", 1024)+"\r\n", 16) + "0\r\n\r\n")
	buf := make([]byte, len(orig))
	req := &handlers.Request{}
	var c Chunked
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		copy(buf, orig)
		c.Reset()
		if _, err := p.ParseChunked(buf, req, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkServe(b *testing.B, in string) {
	c := testCodec(b, codec.Limits{})
	s := c.NewSession(&fakeConn{})
	buf := []byte(in)
	f := new(codec.Flow)
	out := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		*f = codec.Flow{Out: out[:0], Limit: 1 << 20}
		if n := s.Serve(buf, f); n != len(buf) {
			b.Fatalf("consumed %d of %d", n, len(buf))
		}
		out = f.Out
	}
}

// BenchmarkServe is one keep-alive request through the session: parse,
// route, handler, encode.
func BenchmarkServe(b *testing.B) { benchmarkServe(b, wrkGet) }

// BenchmarkServePipelined16 is a batch of 16 pipelined requests served by
// one call.
func BenchmarkServePipelined16(b *testing.B) { benchmarkServe(b, strings.Repeat(wrkGet, 16)) }

// BenchmarkServePost is a POST with a small body to the echo handler.
func BenchmarkServePost(b *testing.B) {
	benchmarkServe(b, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world")
}

// wrkDefault is the request wrk sends without a script.
const wrkDefault = "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"

func BenchmarkParseHeadMinimal(b *testing.B) { benchmarkParseHead(b, wrkDefault) }
func BenchmarkServeMinimal(b *testing.B)     { benchmarkServe(b, wrkDefault) }

// BenchmarkServeMinimalPipelined16 is what bench/compare's pipelined HTTP
// configurations send: 16 minimal heads per read.
func BenchmarkServeMinimalPipelined16(b *testing.B) {
	benchmarkServe(b, strings.Repeat(wrkDefault, 16))
}
