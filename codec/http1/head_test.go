package http1

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// brief describes the result of ParseHead in one line.
func brief(req *handlers.Request, h *Head) string {
	q := "nil"
	if req.Query != nil {
		q = string(req.Query)
	}
	return fmt.Sprintf("%s %s q=%s host=%s %d.%d close=%v cl=%d te=%v cont=%v ka=%v n=%d",
		req.Method, req.Path, q, req.Host, req.ProtoMajor, req.ProtoMinor, req.Close,
		h.ContentLength, h.Chunked, h.Continue, h.KeepAlive, len(req.Headers))
}

const hostA = "Host: a\r\n"

// headTests are request heads, each given whole (ending in the empty
// line), with what ParseHead must make of them: want for a head it
// accepts, status and msg for one it refuses.
var headTests = []struct {
	name   string
	in     string
	want   string
	status int
	msg    string
}{
	// Valid heads.
	{name: "minimal", in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "leading CRLF", in: "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "query", in: "GET /p/q?a=1&b=%20 HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET /p/q q=a=1&b=%20 host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "empty query", in: "GET /p? HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET /p q= host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "punctuation in target", in: "GET /a|b{c}^`\\\"<>[]@!$&'()*+,;=:~% HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET /a|b{c}^`\\\"<>[]@!$&'()*+,;=:~% q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "HTTP/1.0 without Host", in: "GET / HTTP/1.0\r\n\r\n",
		want: "GET / q=nil host= 1.0 close=true cl=-1 te=false cont=false ka=false n=0"},
	{name: "HTTP/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		want: "GET / q=nil host= 1.0 close=false cl=-1 te=false cont=false ka=true n=1"},
	{name: "HTTP/1.0 keep-alive and close", in: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
		want: "GET / q=nil host= 1.0 close=true cl=-1 te=false cont=false ka=false n=1"},
	{name: "HTTP/1.1 close", in: "GET / HTTP/1.1\r\n" + hostA + "Connection: close\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=true cl=-1 te=false cont=false ka=false n=2"},
	{name: "close in a list", in: "GET / HTTP/1.1\r\n" + hostA + "Connection: Upgrade,\t CLOSE ,x\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=true cl=-1 te=false cont=false ka=false n=2"},
	{name: "close in a second field", in: "GET / HTTP/1.1\r\n" + hostA + "Connection: upgrade\r\nconnection: close\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=true cl=-1 te=false cont=false ka=false n=3"},
	{name: "not close", in: "GET / HTTP/1.1\r\n" + hostA + "Connection: closed, x-close\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=2"},
	{name: "HTTP/1.2 served as 1.1", in: "GET / HTTP/1.2\r\n" + hostA + "\r\n",
		want: "GET / q=nil host=a 1.2 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "HTTP/1.9 needs Host", in: "GET / HTTP/1.9\r\n\r\n", status: 400, msg: msgHostMissing},
	{name: "absolute-form", in: "GET http://example.com:80/x/y?z HTTP/1.1\r\nHost: other\r\n\r\n",
		want: "GET /x/y q=z host=example.com:80 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "absolute-form without path", in: "GET HTTP://Example.COM HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET / q=nil host=Example.COM 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "absolute-form https query only", in: "GET https://h:8443?x=1 HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET / q=x=1 host=h:8443 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "absolute-form IPv6", in: "GET http://[::1]:8080/ HTTP/1.1\r\n" + hostA + "\r\n",
		want: "GET / q=nil host=[::1]:8080 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "absolute-form 1.0 without Host", in: "GET http://h/p HTTP/1.0\r\n\r\n",
		want: "GET /p q=nil host=h 1.0 close=true cl=-1 te=false cont=false ka=false n=0"},
	{name: "OPTIONS *", in: "OPTIONS * HTTP/1.1\r\n" + hostA + "\r\n",
		want: "OPTIONS * q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "value trimmed", in: "GET / HTTP/1.1\r\nHost: \t a \t \r\nX-Y:\tb c\t\r\nX-E:\r\nX-S:   \r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=4"},
	{name: "obs-text in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: caf\xc3\xa9 \x80\xff\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=2"},
	{name: "empty Host", in: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
		want: "GET / q=nil host= 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "Host IPv6", in: "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
		want: "GET / q=nil host=[2001:db8::1]:8080 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "Host reg-name", in: "GET / HTTP/1.1\r\nhOST: a-b.c_d~e%41!$&'()*+;=:\r\n\r\n",
		want: "GET / q=nil host=a-b.c_d~e%41!$&'()*+;=: 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "Content-Length", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 0005\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=5 te=false cont=false ka=false n=2"},
	{name: "Content-Length zero", in: "POST / HTTP/1.1\r\n" + hostA + "content-length:0\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=0 te=false cont=false ka=false n=2"},
	{name: "chunked", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: Chunked\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=-1 te=true cont=false ka=false n=2"},
	{name: "Expect 100-continue", in: "POST / HTTP/1.1\r\n" + hostA + "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=3 te=false cont=true ka=false n=3"},
	{name: "Expect ignored in 1.0", in: "POST / HTTP/1.0\r\nExpect: something\r\nContent-Length: 3\r\n\r\n",
		want: "POST / q=nil host= 1.0 close=true cl=3 te=false cont=false ka=false n=2"},
	{name: "method of 32 bytes", in: strings.Repeat("M", 32) + " / HTTP/1.1\r\n" + hostA + "\r\n",
		want: strings.Repeat("M", 32) + " / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "extension method", in: "M-SEARCH /x HTTP/1.1\r\n" + hostA + "\r\n",
		want: "M-SEARCH /x q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=1"},
	{name: "token name characters", in: "GET / HTTP/1.1\r\n" + hostA + "!#$%&'*+-.^_`|~09az: v\r\n\r\n",
		want: "GET / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=2"},

	// The line before the request line.
	{name: "two leading CRLF", in: "\r\n\r\nGET / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgEmptyLines},
	{name: "leading bare LF", in: "\nGET / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgBareLF},
	{name: "leading CRLF then LF", in: "\r\n\nGET / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgEmptyLines},
	{name: "leading bare CR", in: "\rGET / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgBareCR},

	// Request line.
	{name: "bare LF after request line", in: "GET / HTTP/1.1\n" + hostA + "\r\n", status: 400, msg: msgBareLF},
	{name: "all bare LF", in: "GET / HTTP/1.1\nHost: a\n\n", status: 400, msg: msgBareLF},
	{name: "bare CR in request line", in: "GET / HTTP/1.1\rHost: a\r\n\r\n", status: 400, msg: msgBareCR},
	{name: "double space", in: "GET  / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetEmpty},
	{name: "leading space", in: " GET / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgRequestLine},
	{name: "tab separator", in: "GET\t/ HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgRequestLine},
	{name: "non-token method", in: "G@T / HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgRequestLine},
	{name: "method only", in: "GET\r\n" + hostA + "\r\n", status: 400, msg: msgRequestLine},
	{name: "no version", in: "GET /\r\n" + hostA + "\r\n", status: 400, msg: msgRequestLine},
	{name: "trailing space", in: "GET / HTTP/1.1 \r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "lowercase version", in: "GET / http/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "version with three digits", in: "GET / HTTP/1.10\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "version without minor", in: "GET / HTTP/1\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "version two-digit major", in: "GET / HTTP/11.1\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "version HTTPS", in: "GET / HTTPS/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgVersion},
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\n" + hostA + "\r\n", status: 505, msg: msgVersionSupport},
	{name: "HTTP/3.0", in: "GET / HTTP/3.0\r\n" + hostA + "\r\n", status: 505, msg: msgVersionSupport},
	{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\n\r\n", status: 505, msg: msgVersionSupport},
	{name: "method of 33 bytes", in: strings.Repeat("M", 33) + " / HTTP/1.1\r\n" + hostA + "\r\n", status: 501, msg: msgMethodLong},
	{name: "DEL in target", in: "GET /\x7f HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetChar},
	{name: "NUL in target", in: "GET /\x00 HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetChar},
	{name: "high byte in target", in: "GET /\xc3\xa9 HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetChar},
	{name: "fragment in target", in: "GET /a#b HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetChar},
	{name: "tab in target", in: "GET /a\tb HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetChar},
	{name: "authority-form", in: "GET example.com:80 HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetForm},
	{name: "relative target", in: "GET index.html HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetForm},
	{name: "CONNECT", in: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status: 501, msg: msgConnect},
	{name: "asterisk with GET", in: "GET * HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgAsterisk},
	{name: "asterisk with more", in: "OPTIONS *a HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetForm},
	{name: "absolute-form empty authority", in: "GET http:///x HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgAuthority},
	{name: "absolute-form userinfo", in: "GET http://u@h/x HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgAuthority},
	{name: "absolute-form bad port", in: "GET http://h:x/ HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgAuthority},
	{name: "absolute-form other scheme", in: "GET ftp://h/x HTTP/1.1\r\n" + hostA + "\r\n", status: 400, msg: msgTargetForm},
	{name: "absolute-form still needs Host", in: "GET http://h/x HTTP/1.1\r\n\r\n", status: 400, msg: msgHostMissing},

	// Field lines.
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400, msg: msgNameSpace},
	{name: "tab before colon", in: "GET / HTTP/1.1\r\n" + hostA + "X\t: a\r\n\r\n", status: 400, msg: msgNameSpace},
	{name: "empty name", in: "GET / HTTP/1.1\r\n" + hostA + ": a\r\n\r\n", status: 400, msg: msgNameEmpty},
	{name: "obs-fold", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\r\n b\r\n\r\n", status: 400, msg: msgObsFold},
	{name: "obs-fold tab", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\r\n\tb\r\n\r\n", status: 400, msg: msgObsFold},
	{name: "space before first field", in: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400, msg: msgObsFold},
	{name: "non-token name", in: "GET / HTTP/1.1\r\n" + hostA + "X(y): a\r\n\r\n", status: 400, msg: msgNameChar},
	{name: "high byte in name", in: "GET / HTTP/1.1\r\n" + hostA + "X\xc3\xa9: a\r\n\r\n", status: 400, msg: msgNameChar},
	{name: "no colon", in: "GET / HTTP/1.1\r\n" + hostA + "X\r\n\r\n", status: 400, msg: msgNoColon},
	{name: "no colon with space", in: "GET / HTTP/1.1\r\n" + hostA + "X y\r\n\r\n", status: 400, msg: msgNameSpace},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\x00b\r\n\r\n", status: 400, msg: msgValueChar},
	{name: "CTL in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\x01b\r\n\r\n", status: 400, msg: msgValueChar},
	{name: "DEL in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\x7fb\r\n\r\n", status: 400, msg: msgValueChar},
	{name: "ESC in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: \x1b[0m\r\n\r\n", status: 400, msg: msgValueChar},
	{name: "bare CR in value", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\rb\r\n\r\n", status: 400, msg: msgBareCR},
	{name: "bare CR ending value", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\r\r\n\r\n", status: 400, msg: msgBareCR},
	{name: "bare LF ending field", in: "GET / HTTP/1.1\r\n" + hostA + "X: a\n\r\n", status: 400, msg: msgBareLF},
	{name: "bare LF ending head", in: "GET / HTTP/1.1\r\n" + hostA + "\n", status: 400, msg: msgBareLF},
	{name: "bare LF in name", in: "GET / HTTP/1.1\r\n" + hostA + "X\n\r\n", status: 400, msg: msgBareLF},
	{name: "bare CR ending head", in: "GET / HTTP/1.1\r\n" + hostA + "\rX\r\n\r\n", status: 400, msg: msgBareCR},

	// Host.
	{name: "missing Host", in: "GET / HTTP/1.1\r\n\r\n", status: 400, msg: msgHostMissing},
	{name: "two Hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", status: 400, msg: msgHostDup},
	{name: "two Hosts in 1.0", in: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, msg: msgHostDup},
	{name: "Host with space", in: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host with slash", in: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host with userinfo", in: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host with bad port", in: "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host two colons", in: "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host port only", in: "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host open bracket", in: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host bad IPv6", in: "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host bad percent", in: "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host with comma list", in: "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "Host with comma", in: "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", status: 400, msg: msgHostBad},
	{name: "absolute-form with comma", in: "GET http://a,b/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, msg: msgAuthority},
	{name: "Host in 1.0 invalid", in: "GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n", status: 400, msg: msgHostBad},

	// Framing.
	{name: "TE and CL", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", status: 400, msg: msgCLTE},
	{name: "CL and TE", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, msg: msgCLTE},
	{name: "TE in 1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, msg: msgTE10},
	{name: "TE gzip, chunked", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: gzip, chunked\r\n\r\n", status: 501, msg: msgTECoding},
	{name: "TE gzip then chunked fields", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501, msg: msgTECoding},
	{name: "TE chunked, gzip", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked, gzip\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "TE chunked twice", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked, chunked\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "TE chunked in two fields", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "TE gzip", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: gzip\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "TE identity", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: identity\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "TE empty", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding:\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE trailing comma", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked,\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE leading comma", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: ,chunked\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE with parameter", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chunked;q=1\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE quoted", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: \"chunked\"\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE chunked with space inside", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: chun ked\r\n\r\n", status: 400, msg: msgTEBad},
	{name: "TE xchunked", in: "POST / HTTP/1.1\r\n" + hostA + "Transfer-Encoding: xchunked\r\n\r\n", status: 400, msg: msgTENotFinal},
	{name: "CL empty", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length:\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL letters", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5a\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL plus", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: +5\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL negative", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: -1\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL hex", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 0x5\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL inner space", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5 5\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL comma list", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5, 5\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL duplicate equal", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", status: 400, msg: msgCLDup},
	{name: "CL duplicate different", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", status: 400, msg: msgCLDup},
	{name: "CL with underscore", in: "POST / HTTP/1.1\r\n" + hostA + "Content_Length: 5\r\n\r\n", status: 400, msg: msgFramingName},
	{name: "TE with underscore", in: "POST / HTTP/1.1\r\n" + hostA + "transfer_encoding: chunked\r\n\r\n", status: 400, msg: msgFramingName},
	{name: "CL with underscores only", in: "POST / HTTP/1.1\r\n" + hostA + "Content_Lengt_: 5\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=-1 te=false cont=false ka=false n=2"},
	{name: "CL overflow", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 99999999999999999999\r\n\r\n", status: 400, msg: msgCLBad},
	{name: "CL max int64 too large", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 9223372036854775807\r\n\r\n", status: 413, msg: msgBodyLarge},
	{name: "CL over max body", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 4194305\r\n\r\n", status: 413, msg: msgBodyLarge},
	{name: "CL at max body", in: "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 4194304\r\n\r\n",
		want: "POST / q=nil host=a 1.1 close=false cl=4194304 te=false cont=false ka=false n=2"},
	{name: "Expect other", in: "POST / HTTP/1.1\r\n" + hostA + "Expect: 200-ok\r\n\r\n", status: 417, msg: msgExpect},
	{name: "Expect list", in: "POST / HTTP/1.1\r\n" + hostA + "Expect: 100-continue, x\r\n\r\n", status: 417, msg: msgExpect},
	{name: "Expect empty", in: "POST / HTTP/1.1\r\n" + hostA + "Expect:\r\n\r\n", status: 417, msg: msgExpect},
	{name: "Expect too large", in: "POST / HTTP/1.1\r\n" + hostA + "Expect: 100-continue\r\nContent-Length: 4194305\r\n\r\n", status: 413, msg: msgBodyLarge},
}

// parseSplit parses in with ParseHead fed in the given pieces (each call
// sees everything so far) and describes the outcome.
func parseSplit(p *Parser, pieces ...[]byte) string {
	req := newRequest(p.lim.MaxHeaders)
	var h Head
	var buf []byte
	for _, piece := range pieces {
		buf = append(buf, piece...)
		n, err := p.ParseHead(buf, req, &h)
		switch {
		case err == codec.ErrIncomplete:
			continue
		case err != nil:
			var e *Error
			if !errors.As(err, &e) {
				return "error of type " + fmt.Sprintf("%T", err)
			}
			return fmt.Sprintf("%d %s at %d", e.Status, e.Msg, e.Offset)
		default:
			if n != h.Len {
				return fmt.Sprintf("n %d != Len %d", n, h.Len)
			}
			return fmt.Sprintf("n=%d %s", n, brief(req, &h))
		}
	}
	return "incomplete"
}

func TestParseHead(t *testing.T) {
	p := NewParser(codec.Limits{})
	for _, tt := range headTests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(p.lim.MaxHeaders)
			var h Head
			n, err := p.ParseHead([]byte(tt.in), req, &h)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("got error %v, want %q", err, tt.want)
				}
				if got := brief(req, &h); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				if n != len(tt.in) {
					t.Errorf("got n %d, want %d", n, len(tt.in))
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%s), want status %d %q", err, brief(req, &h), tt.status, tt.msg)
			}
			if e.Status != tt.status || e.Msg != tt.msg {
				t.Errorf("got %d %q, want %d %q", e.Status, e.Msg, tt.status, tt.msg)
			}
			var se *codec.SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tt.in) {
				t.Errorf("got syntax error %v, want one with an offset in the input", se)
			}
		})
	}
}

// TestParseHeadSplit feeds every head of headTests byte by byte and split
// at every offset: the outcome must not depend on how the bytes arrive.
func TestParseHeadSplit(t *testing.T) {
	p := NewParser(codec.Limits{})
	for _, tt := range headTests {
		t.Run(tt.name, func(t *testing.T) {
			want := parseSplit(p, []byte(tt.in))
			for _, pieces := range splits(tt.in) {
				if got := parseSplit(p, pieces...); got != want {
					t.Fatalf("split %d pieces (first %q): got %q, want %q",
						len(pieces), pieces[0], got, want)
				}
			}
		})
	}
}

// TestParseHeadIncomplete: every proper prefix of a valid head is
// incomplete, never an error.
func TestParseHeadIncomplete(t *testing.T) {
	p := NewParser(codec.Limits{})
	for _, tt := range headTests {
		if tt.status != 0 {
			continue
		}
		for i := range len(tt.in) {
			req := newRequest(p.lim.MaxHeaders)
			var h Head
			if _, err := p.ParseHead([]byte(tt.in[:i]), req, &h); err != codec.ErrIncomplete {
				t.Errorf("%s: prefix %q: got %v, want %v", tt.name, tt.in[:i], err, codec.ErrIncomplete)
			}
		}
	}
}

// TestParseHeadViews: the views of the request point into the input and
// nothing is written to it.
func TestParseHeadViews(t *testing.T) {
	p := NewParser(codec.Limits{})
	in := []byte("POST /a/b?c=d HTTP/1.1\r\nHost: h\r\nX-Y: z\r\nContent-Length: 2\r\n\r\nhi")
	orig := string(in)
	req := newRequest(p.lim.MaxHeaders)
	var h Head
	n, err := p.ParseHead(in, req, &h)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, len(orig)-2; got != want {
		t.Errorf("got n %d, want %d", got, want)
	}
	if string(in) != orig {
		t.Errorf("input modified: got %q, want %q", in, orig)
	}
	for _, v := range [][]byte{req.Method, req.Target, req.Path, req.Query, req.Proto, req.Host} {
		if !within(in, v) {
			t.Errorf("got view %q, want a view of the input", v)
		}
	}
	for _, f := range req.Headers {
		if !within(in, f.Name) || !within(in, f.Value) {
			t.Errorf("got field %q: %q, want views of the input", f.Name, f.Value)
		}
	}
	if got, want := string(req.Header("x-y")), "z"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if req.Body != nil {
		t.Errorf("got body %q, want nil", req.Body)
	}
}

// TestLimits checks each limit of the head at its bound, both when the
// head is complete and while it is not: a request line or header section
// over its limit is refused without waiting for its end.
func TestLimits(t *testing.T) {
	lim := codec.Limits{MaxRequestLine: 40, MaxHeaderBytes: 60, MaxHeaders: 3, MaxBody: 10}
	p := NewParser(lim)
	line := func(n int) string { // a request line of n bytes, without CRLF
		return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1"
	}
	tests := []struct {
		name, in string
		want     string
	}{
		{"line at limit", line(40) + "\r\n" + hostA + "\r\n", "ok"},
		{"line over limit", line(41) + "\r\n" + hostA + "\r\n", "414 " + msgLineLong},
		{"line over limit, incomplete", line(41)[:41], "414 " + msgLineLong},
		{"line over limit, no version yet", "GET /" + strings.Repeat("a", 100), "414 " + msgLineLong},
		{"line at limit, incomplete", line(40)[:40], "incomplete"},
		{"method over limit", strings.Repeat("G", 50), "501 " + msgMethodLong},
		{"fields at byte limit", "GET / HTTP/1.1\r\n" + hostA + "X: " + strings.Repeat("v", 60-9-5-2) + "\r\n\r\n", "ok"},
		{"fields over byte limit", "GET / HTTP/1.1\r\n" + hostA + "X: " + strings.Repeat("v", 60-9-5-1) + "\r\n\r\n", "431 " + msgHeaderLarge},
		{"fields over byte limit, incomplete", "GET / HTTP/1.1\r\n" + hostA + "X: " + strings.Repeat("v", 100), "431 " + msgHeaderLarge},
		{"fields over byte limit, no colon", "GET / HTTP/1.1\r\n" + strings.Repeat("X", 100), "431 " + msgHeaderLarge},
		{"fields at count limit", "GET / HTTP/1.1\r\n" + hostA + "A: 1\r\nB: 2\r\n\r\n", "ok"},
		{"fields over count limit", "GET / HTTP/1.1\r\n" + hostA + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", "431 " + msgHeaderMany},
		{"fields over count limit, incomplete", "GET / HTTP/1.1\r\n" + hostA + "A: 1\r\nB: 2\r\nC", "431 " + msgHeaderMany},
		{"body at limit", "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 10\r\n\r\n", "ok"},
		{"body over limit", "POST / HTTP/1.1\r\n" + hostA + "Content-Length: 11\r\n\r\n", "413 " + msgBodyLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pieces := range splits(tt.in) {
				got := parseSplit(p, pieces...)
				switch {
				case strings.HasPrefix(got, "n="):
					got = "ok"
				case got != "incomplete":
					got = got[:strings.Index(got, " at ")]
				}
				if got != tt.want {
					t.Fatalf("%d pieces: got %q, want %q", len(pieces), got, tt.want)
				}
			}
		})
	}
}

// TestParseHeadResumeCost: a head that arrives byte by byte is checked
// once, not once per byte (no O(n²) rescan of a slow header).
func TestParseHeadResumeCost(t *testing.T) {
	p := NewParser(codec.Limits{})
	in := []byte("GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 60000) + "\r\n\r\n")
	req := newRequest(p.lim.MaxHeaders)
	var h Head
	for i := 1; i < len(in); i++ {
		if _, err := p.ParseHead(in[:i], req, &h); err != codec.ErrIncomplete {
			t.Fatalf("prefix %d: got %v, want %v", i, err, codec.ErrIncomplete)
		}
		if got := int(h.s.pos); got != i {
			t.Fatalf("prefix %d: got scan position %d, want %d", i, got, i)
		}
	}
	if _, err := p.ParseHead(in, req, &h); err != nil {
		t.Fatal(err)
	}
}

func within(buf, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	for i := 0; i+len(v) <= len(buf); i++ {
		if &buf[i] == &v[0] {
			return true
		}
	}
	return false
}

// TestRefusalIsFinal: calling a parser again after it refused the input
// gives the same error, whatever state the scan was in.
func TestRefusalIsFinal(t *testing.T) {
	p := NewParser(codec.Limits{})
	for _, tt := range headTests {
		if tt.status == 0 {
			continue
		}
		req := newRequest(100)
		var h Head
		_, err1 := p.ParseHead([]byte(tt.in), req, &h)
		_, err2 := p.ParseHead([]byte(tt.in), req, &h)
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Errorf("%s: got %v then %v, want the same error twice", tt.name, err1, err2)
		}
	}
	p = NewParser(chunkedLimits)
	for _, tt := range chunkedTests {
		if tt.status == 0 {
			continue
		}
		req := &handlers.Request{Trailers: make([]handlers.Header, 0, 3)}
		var c Chunked
		_, err1 := p.ParseChunked([]byte(tt.in), req, &c)
		_, err2 := p.ParseChunked([]byte(tt.in), req, &c)
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Errorf("%s: got %v then %v, want the same error twice", tt.name, err1, err2)
		}
	}
}

// A hostCache answers as validHost does whatever it remembers: every pair
// of values in turn, valid and not, of one length and of others, each
// written over the last in one buffer (as a connection's buffer is
// reused), and values too long to remember.
func TestHostCache(t *testing.T) {
	long := strings.Repeat("a", maxCachedHost+1)
	values := []string{
		"localhost:8080", "localhost:808x", "localhost,8080", "127.0.0.1:8080", "127.0.0.1:80 0",
		"[::1]:8080", "[::1]:80", "[::1", "example.com", "exa mple.com", "", ":80", "a%41b", "a%4",
		long, long + ":1", long + ":x",
	}
	var c hostCache
	buf := make([]byte, 2*maxCachedHost) // the connection's buffer, reused by each request
	for _, first := range values {
		for _, second := range values {
			for _, v := range []string{first, second, second} {
				b := buf[:copy(buf, v)]
				if got, want := c.valid(b), validHost([]byte(v)); got != want {
					t.Fatalf("after %q: valid(%q) = %v, want %v", first, v, got, want)
				}
			}
		}
	}
	var nilCache *hostCache
	if !nilCache.valid([]byte("example.com")) || nilCache.valid([]byte("a b")) {
		t.Error("a nil hostCache must check every value")
	}
}

// Through a session: a connection whose first request names a valid host
// and whose second names an invalid one of the same length gets a 400.
func TestHostCacheInSession(t *testing.T) {
	c := testCodec(t, codec.Limits{})
	s := c.NewSession(&fakeConn{})
	f := &codec.Flow{Limit: 1 << 20}
	in := "GET /plaintext HTTP/1.1\r\nHost: example.com\r\n\r\n" +
		"GET /plaintext HTTP/1.1\r\nHost: example.co,\r\n\r\n"
	s.Serve([]byte(in), f)
	out := string(f.Out)
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "HTTP/1.1 400 Bad Request\r\n") || !f.Close {
		t.Fatalf("got %q (close %v): want a 200, then a 400 and the close", out, f.Close)
	}
}
