package http1

// The conformance corpus: raw requests reconstructed from public
// conformance and request-smuggling corpora, each with the outcome the
// codec must give. TestConformance runs it through a session; the same
// file, with its package clause changed, is the corpus of the live check
// against the server binary (see docs/http.md), so it uses the standard
// library only.
//
// Case names start with their family:
//
//	rfc9112, rfc9110  examples and edge cases of the RFCs (section numbers)
//	smuggler          PortSwigger smuggler.py Transfer-Encoding mutations
//	                  (configs/default.py), each sent as a bare TE request
//	                  ("/te") and with a Content-Length ("/cl.te")
//	garden            HTTP Garden differential-fuzzing findings: chunk-size
//	                  and extension tricks, NUL and CTL bytes, Host tricks
//	paper             request-smuggling papers (Linhart et al. 2005; Kettle
//	                  2019, 2022, 2025): CL.TE, TE.CL, TE.TE, CL.CL, CL.0,
//	                  0.CL and Expect desyncs
//	h1spec            h1spec-style conformance checks: pipelining,
//	                  persistence, limits, HEAD, Expect, pending requests
//	client            what real clients send: curl, browsers, Go net/http,
//	                  Python, Node, Java, wrk, ab, h2load, proxies

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// confCase is one raw request, or several pipelined, and what the server
// must answer.
type confCase struct {
	name string
	in   string
	want []confResp // the responses, in order (interim 100s aside)
	end  confEnd    // the connection after the last response
}

// confEnd is the state of the connection once the answers are out.
type confEnd uint8

const (
	endOpen    confEnd = iota // idle keep-alive, waiting for the next request
	endClosed                 // closed by the server (always after a refusal)
	endPending                // waiting for the rest of a request
)

func (e confEnd) String() string {
	return [...]string{"open", "closed", "pending"}[e]
}

// confResp is one expected response.
type confResp struct {
	status  int
	echo    bool   // /echo's answer; body is the request body it saw
	body    string // with echo: the request body; otherwise, when set, the response body
	has     string // when set, a string the response (head or body) must contain
	head    bool   // the answer to a HEAD request: no body follows its head
	refused bool   // the codec refused the request: Connection: close, nothing after
}

// echo is /echo's answer to a request whose body was body.
func echo(body string) confResp { return confResp{status: 200, echo: true, body: body} }

// echoHas is echo with a string the answer must contain.
func echoHas(body, has string) confResp {
	return confResp{status: 200, echo: true, body: body, has: has}
}

// served is a request served with the given status (by the router).
func served(status int) confResp { return confResp{status: status} }

// refused is a request the codec refuses with status.
func refused(status int) confResp { return confResp{status: status, refused: true} }

// headResp is the answer to HEAD.
func headResp(status int) confResp { return confResp{status: status, head: true} }

const (
	cHost = "Host: a\r\n"
	// cNext is a well-formed request sent after the one under test: its
	// answer shows where the server thought the first one ended.
	cNext = "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
	// cSmuggled is a request that must never be served.
	cSmuggled = "GET /echo?smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
	// cChunked is a chunked body of "abc".
	cChunked = "3\r\nabc\r\n0\r\n\r\n"
)

// cPost is a POST to /echo with the given extra field lines and body.
func cPost(fields, body string) string {
	return "POST /echo HTTP/1.1\r\n" + cHost + fields + "\r\n" + body
}

// cTE is a POST to /echo with "Transfer-Encoding: chunked" and body.
func cTE(body string) string { return cPost("Transfer-Encoding: chunked\r\n", body) }

// cGet is a GET of target with Host and the extra field lines.
func cGet(target, fields string) string {
	return "GET " + target + " HTTP/1.1\r\n" + cHost + fields + "\r\n"
}

func cl(n int) string { return "Content-Length: " + strconv.Itoa(n) + "\r\n" }

// confCorpus is the whole corpus.
var confCorpus = concat(rfcCases(), smugglerCases(), gardenCases(), paperCases(), h1specCases(), clientCases())

func concat(lists ...[]confCase) []confCase {
	var all []confCase
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

func rfcCases() []confCase {
	ok2 := []confResp{echo(""), echo("")}
	return []confCase{
		// Valid messages.
		{name: "rfc9112/3-minimal-get", in: cNext, want: []confResp{echo("")}},
		{name: "rfc9112/3-pipelined-three", in: cNext + cNext + cNext, want: []confResp{echo(""), echo(""), echo("")}},
		{name: "rfc9112/3.2.1-origin-form-query", in: cGet("/echo?a=1&b=%20", ""),
			want: []confResp{echoHas("", `"target":"/echo?a=1&b=%20"`)}},
		{name: "rfc9112/3.2.1-punctuation-in-target", in: cGet("/echo/a|b{c}^`[]@!$&'()*+,;=:~%", ""), want: []confResp{served(404)}},
		{name: "rfc9112/3.2.2-absolute-form", in: "GET http://a/echo HTTP/1.1\r\nHost: a\r\n\r\n" + cNext,
			want: []confResp{echoHas("", `"target":"http://a/echo"`), echo("")}},
		{name: "rfc9112/3.2.2-absolute-form-host-differs", in: "GET http://b:8080/echo?x HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9112/3.2.2-absolute-form-https", in: "GET https://a/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9112/3.2.2-absolute-form-scheme-case", in: "GET HTTP://A/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9112/3.2.2-absolute-form-ipv6", in: "GET http://[::1]:80/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9112/3.2.2-absolute-form-http10-no-host", in: "GET http://a/echo HTTP/1.0\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "rfc9112/3.2.4-asterisk-options", in: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" + cNext, want: []confResp{served(204), echo("")}},
		{name: "rfc9112/2.2-one-leading-crlf", in: "\r\n" + cNext, want: []confResp{echo("")}},
		{name: "rfc9112/2.2-crlf-after-body", in: cPost(cl(3), "abc") + "\r\n" + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "rfc9112/2.3-http11-minor-2", in: "GET /echo HTTP/1.2\r\nHost: a\r\n\r\n", want: []confResp{echoHas("", `"version":"HTTP/1.2"`)}},
		{name: "rfc9112/5-token-name-chars", in: cGet("/echo", "!#$%&'*+-.^_`|~09az: v\r\n"), want: []confResp{echo("")}},
		{name: "rfc9112/5.1-no-space-after-colon", in: cGet("/echo", "X:v\r\n"), want: []confResp{echoHas("", `["X","v"]`)}},
		{name: "rfc9112/6.2-content-length", in: cPost(cl(5), "hello") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/6.2-content-length-zero", in: cPost(cl(0), "") + cNext, want: ok2},
		{name: "rfc9112/6.3-no-framing-empty-body", in: cPost("", "") + cNext, want: ok2},
		{name: "rfc9112/6.3-cl-leading-zeros", in: cPost("Content-Length: 0003\r\n", "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "rfc9112/6.3-cl-ows", in: cPost("Content-Length: \t3 \t\r\n", "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "rfc9112/6.3-cl-case-insensitive-name", in: cPost("cOnTeNt-LeNgTh: 3\r\n", "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "rfc9112/7.1-chunked", in: cTE("5\r\nhello\r\n0\r\n\r\n") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/7.1-chunked-several", in: cTE("3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n") + cNext, want: []confResp{echo("abcdef"), echo("")}},
		{name: "rfc9112/7.1-chunked-empty", in: cTE("0\r\n\r\n") + cNext, want: ok2},
		{name: "rfc9112/7.1-chunk-size-upper-hex", in: cTE("A\r\n0123456789\r\n0\r\n\r\n"), want: []confResp{echo("0123456789")}},
		{name: "rfc9112/7.1-chunk-size-lower-hex", in: cTE("a\r\n0123456789\r\n0\r\n\r\n"), want: []confResp{echo("0123456789")}},
		{name: "rfc9112/7.1-chunk-size-leading-zeros", in: cTE("0005\r\nhello\r\n000\r\n\r\n") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/7.1-chunk-size-16-digits", in: cTE("0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n"), want: []confResp{echo("hello")}},
		{name: "rfc9112/7.1-chunk-data-holds-crlf", in: cTE("7\r\nab\r\ncd\r\r\n0\r\n\r\n") + cNext, want: []confResp{echo("ab\r\ncd\r"), echo("")}},
		{name: "rfc9112/7.1-chunk-data-holds-last-chunk", in: cTE("5\r\n0\r\n\r\n\r\n0\r\n\r\n") + cNext, want: []confResp{echo("0\r\n\r\n"), echo("")}},
		{name: "rfc9112/7.1-chunk-data-holds-request", in: cTE(fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(cSmuggled), cSmuggled)) + cNext, want: []confResp{echo(cSmuggled), echo("")}},
		{name: "rfc9112/7.1.1-chunk-ext", in: cTE("5;name=value\r\nhello\r\n0;last\r\n\r\n") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/7.1.1-chunk-ext-several", in: cTE("5;a;b=c;d=\"e\"\r\nhello\r\n0\r\n\r\n"), want: []confResp{echo("hello")}},
		{name: "rfc9112/7.1.1-chunk-ext-quoted-pair", in: cTE("5;n=\"v a;l\\\"ue\"\r\nhello\r\n0\r\n\r\n") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/7.1.2-trailer", in: cTE("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-More: 2\r\n\r\n") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9112/7.1.2-trailer-framing-fields-not-merged", in: cTE("5\r\nhello\r\n0\r\nContent-Length: 50\r\nTransfer-Encoding: gzip\r\nHost: b\r\n\r\n") + cNext,
			want: []confResp{echoHas("hello", `"headers":[["Host","a"],["Transfer-Encoding","chunked"]]`), echo("")}},
		{name: "rfc9112/9.3-http10-closes", in: "GET /echo HTTP/1.0\r\n\r\n" + cNext, want: []confResp{echo("")}, end: endClosed},
		{name: "rfc9112/9.3-http10-keep-alive", in: "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + cNext,
			want: []confResp{echoHas("", "Connection: keep-alive\r\n"), echo("")}},
		{name: "rfc9112/9.3-http10-keep-alive-post", in: "POST /echo HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi" + "GET /echo HTTP/1.0\r\n\r\n" + cNext,
			want: []confResp{echo("hi"), echo("")}, end: endClosed},
		{name: "rfc9112/9.3-http10-post-no-length", in: "POST /echo HTTP/1.0\r\n\r\nbody", want: []confResp{echo("")}, end: endClosed},
		{name: "rfc9112/9.6-close", in: cGet("/echo", "Connection: close\r\n") + cNext, want: []confResp{echoHas("", "Connection: close\r\n")}, end: endClosed},
		{name: "rfc9112/9.6-close-in-list", in: cGet("/echo", "Connection: keep-alive, CLOSE\r\n") + cNext, want: []confResp{echo("")}, end: endClosed},
		{name: "rfc9112/9.6-close-second-field", in: cGet("/echo", "Connection: upgrade\r\nConnection: close\r\n") + cNext, want: []confResp{echo("")}, end: endClosed},
		{name: "rfc9112/9.6-close-with-body", in: cPost("Connection: close\r\n"+cl(3), "abc") + cNext, want: []confResp{echo("abc")}, end: endClosed},
		{name: "rfc9112/9.6-not-close", in: cGet("/echo", "Connection: closed, x-close\r\n") + cNext, want: ok2},
		{name: "rfc9110/5.3-repeated-fields", in: cGet("/echo", "Accept: a\r\nAccept: b\r\n"), want: []confResp{echo("")}},
		{name: "rfc9110/5.5-empty-value", in: cGet("/echo", "X:\r\nY: \r\n"), want: []confResp{echoHas("", `["X",""],["Y",""]`)}},
		{name: "rfc9110/5.5-ows-trimmed", in: cGet("/echo", "X: \t v w \t\r\n"), want: []confResp{echoHas("", `["X","v w"]`)}},
		{name: "rfc9110/5.5-obs-text", in: cGet("/echo", "X: caf\xc3\xa9 \x80\xff\r\n"), want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-port", in: "GET /echo HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-ipv4", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-ipv6", in: "GET /echo HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-empty", in: "GET /echo HTTP/1.1\r\nHost:\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-pct-encoded", in: "GET /echo HTTP/1.1\r\nHost: a%41b\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/7.2-host-lowercase-name", in: "GET /echo HTTP/1.1\r\nhost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/9.1-lowercase-method", in: "get /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echoHas("", `"method":"get"`)}},
		{name: "rfc9110/9.1-extension-method", in: "PURGE /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "rfc9110/9.3.1-get-with-body", in: cGet("/echo", cl(4)) + "body" + cNext, want: []confResp{echo("body"), echo("")}},
		{name: "rfc9110/9.3.2-head", in: "HEAD /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" + cNext, want: []confResp{headResp(200), echo("")}},
		{name: "rfc9110/9.3.2-head-with-body", in: "HEAD /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + cNext, want: []confResp{headResp(200), echo("")}},
		{name: "rfc9110/10.1.1-expect-100-body-sent", in: cPost("Expect: 100-continue\r\n"+cl(5), "hello") + cNext, want: []confResp{echo("hello"), echo("")}},
		{name: "rfc9110/10.1.1-expect-100-case", in: cPost("Expect: 100-Continue\r\n"+cl(2), "hi"), want: []confResp{echo("hi")}},
		{name: "rfc9110/10.1.1-expect-100-no-body", in: cGet("/echo", "Expect: 100-continue\r\n") + cNext, want: ok2},
		{name: "rfc9110/10.1.1-expect-100-chunked", in: cPost("Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n", cChunked), want: []confResp{echo("abc")}},
		{name: "rfc9110/10.1.1-expect-unknown", in: cPost("Expect: gzip\r\n"+cl(2), "hi") + cNext, want: []confResp{refused(417)}},
		{name: "rfc9110/10.1.1-expect-ignored-in-1.0", in: "POST /echo HTTP/1.0\r\nExpect: foo\r\nContent-Length: 2\r\n\r\nhi", want: []confResp{echo("hi")}, end: endClosed},

		// Invalid messages.
		{name: "rfc9112/2.2-bare-lf-request-line", in: "GET /echo HTTP/1.1\nHost: a\r\n\r\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-lf-everywhere", in: "GET /echo HTTP/1.1\nHost: a\n\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-lf-field", in: "GET /echo HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-lf-empty-line", in: "GET /echo HTTP/1.1\r\nHost: a\r\n\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-cr-in-value", in: cGet("/echo", "X: a\rb\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-cr-cr-lf", in: "GET /echo HTTP/1.1\r\nHost: a\r\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-cr-request-line", in: "GET /echo HTTP/1.1\rHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-bare-cr-empty-line", in: "GET /echo HTTP/1.1\r\nHost: a\r\n\r" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-two-leading-crlf", in: "\r\n\r\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-leading-bare-lf", in: "\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.2-leading-whitespace-line", in: " \r\n" + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-lowercase", in: "GET /echo http/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-two-digit-minor", in: "GET /echo HTTP/1.10\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-leading-zero", in: "GET /echo HTTP/01.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-no-minor", in: "GET /echo HTTP/1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-three-parts", in: "GET /echo HTTP/1.1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-space", in: "GET /echo HTTP/ 1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/2.3-version-2.0", in: "GET /echo HTTP/2.0\r\nHost: a\r\n\r\n", want: []confResp{refused(505)}},
		{name: "rfc9112/2.3-version-3.0", in: "GET /echo HTTP/3.0\r\nHost: a\r\n\r\n", want: []confResp{refused(505)}},
		{name: "rfc9112/2.3-version-0.9", in: "GET /echo HTTP/0.9\r\n\r\n", want: []confResp{refused(505)}},
		{name: "rfc9112/2.3-version-9.9", in: "GET /echo HTTP/9.9\r\nHost: a\r\n\r\n", want: []confResp{refused(505)}},
		{name: "rfc9112/3-double-space", in: "GET  /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-space-before-version", in: "GET /echo  HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-tab-separators", in: "GET\t/echo\tHTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-trailing-space", in: "GET /echo HTTP/1.1 \r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-trailing-tab", in: "GET /echo HTTP/1.1\t\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-leading-space", in: " GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-no-target", in: "GET HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-method-only", in: "GET\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-http09-request", in: "GET /echo\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3-empty-method", in: " /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-missing-host", in: "GET /echo HTTP/1.1\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-missing-host-after-valid", in: cNext + "GET /echo HTTP/1.1\r\n\r\n" + cNext, want: []confResp{echo(""), refused(400)}},
		{name: "rfc9112/3.2-two-hosts", in: "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-two-hosts-same", in: "GET /echo HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-two-hosts-http10", in: "GET /echo HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-host-list", in: "GET /echo HTTP/1.1\r\nHost: a, b\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-host-userinfo", in: "GET /echo HTTP/1.1\r\nHost: u@a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-host-path", in: "GET /echo HTTP/1.1\r\nHost: a/b\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.2-absolute-form-needs-host", in: "GET http://a/echo HTTP/1.1\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.2-absolute-form-userinfo", in: "GET http://u:p@a/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.2-absolute-form-empty-authority", in: "GET http:///echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.2-absolute-form-other-scheme", in: "GET ftp://a/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.3-authority-form-get", in: "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2.3-connect", in: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", want: []confResp{refused(501)}},
		{name: "rfc9112/3.2.4-asterisk-get", in: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-relative-target", in: "GET echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/3.2-fragment", in: "GET /echo#frag HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/5.1-space-before-colon", in: cGet("/echo", "X : v\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/5.1-tab-before-colon", in: cGet("/echo", "X\t: v\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/5.2-obs-fold", in: cGet("/echo", "X: a\r\n b\r\n") + cNext, want: []confResp{refused(400)}},
		{name: "rfc9112/5.2-obs-fold-tab", in: cGet("/echo", "X: a\r\n\tb\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/5.2-first-line-folded", in: "GET /echo HTTP/1.1\r\n Host: a\r\n\r\n", want: []confResp{refused(400)}},
		{name: "rfc9112/5-no-colon", in: cGet("/echo", "X\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/5-empty-name", in: cGet("/echo", ": v\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-and-cl", in: cPost("Transfer-Encoding: chunked\r\n"+cl(3), cChunked) + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-in-http10", in: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + cChunked, want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-gzip-chunked", in: cPost("Transfer-Encoding: gzip, chunked\r\n", cChunked), want: []confResp{refused(501)}},
		{name: "rfc9112/6.1-te-gzip", in: cPost("Transfer-Encoding: gzip\r\n", "abc"), want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-chunked-gzip", in: cPost("Transfer-Encoding: chunked, gzip\r\n", cChunked), want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-identity", in: cPost("Transfer-Encoding: identity\r\n", "abc"), want: []confResp{refused(400)}},
		{name: "rfc9112/6.1-te-chunked-twice", in: cPost("Transfer-Encoding: chunked, chunked\r\n", cChunked), want: []confResp{refused(400)}},
		{name: "rfc9112/6.3-cl-list", in: cPost("Content-Length: 3, 3\r\n", "abc") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/6.3-cl-twice-same", in: cPost(cl(3)+cl(3), "abc") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/6.3-cl-twice-different", in: cPost(cl(3)+cl(0), "abc") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/6.3-cl-empty", in: cPost("Content-Length:\r\n", "") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-size-missing", in: cTE("\r\nhello\r\n0\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-data-overrun", in: cTE("3\r\nhello\r\n0\r\n\r\n") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-data-short", in: cTE("5\r\nhi\r\n0\r\n\r\n") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-bare-lf-after-size", in: cTE("5\nhello\r\n0\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-bare-lf-after-data", in: cTE("5\r\nhello\n0\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-chunk-bare-cr-after-data", in: cTE("5\r\nhello\r0\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-last-chunk-bare-lf", in: cTE("0\n\n") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-last-chunk-bare-lf-end", in: cTE("0\r\n\n") + cSmuggled, want: []confResp{refused(400)}},
		{name: "rfc9112/7.1-no-last-chunk-yet", in: cTE("5\r\nhello\r\n"), end: endPending},
		{name: "rfc9112/7.1-no-final-crlf-yet", in: cTE("5\r\nhello\r\n0\r\n"), end: endPending},
		{name: "rfc9112/7.1.2-trailer-obs-fold", in: cTE("0\r\nX: a\r\n b\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1.2-trailer-space-before-colon", in: cTE("0\r\nX : a\r\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1.2-trailer-bare-lf", in: cTE("0\r\nX: a\n\r\n"), want: []confResp{refused(400)}},
		{name: "rfc9112/7.1.2-trailer-no-colon", in: cTE("0\r\nX\r\n\r\n"), want: []confResp{refused(400)}},
	}
}

// A smuggler.py mutation and what becomes of it. The outcome letters:
//
//	c  read as "Transfer-Encoding: chunked"
//	i  not a Transfer-Encoding field: ignored, the body is unframed
//	x  refused with 400
//	5  refused with 501 (chunked after an unknown coding)
type mutation struct {
	name, line string
	outcome    byte
}

// smugglerBytes are the bytes smuggler.py puts around and inside the
// Transfer-Encoding field in its generated mutations.
var smugglerBytes = []byte{0x01, 0x04, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1f, 0x20, 0x7f, 0xa0, 0xff}

// smugglerPatterns are smuggler.py's generated mutations (%c is one of
// smugglerBytes), with the outcome for each byte, in smugglerBytes' order.
var smugglerPatterns = []struct {
	name, format, outcomes string
}{
	{"midspace", "Transfer-Encoding:%cchunked", "xxxcxxxxxcxxx"},
	{"postspace", "Transfer-Encoding%c: chunked", "xxxxxxxxxxxxx"},
	{"prespace", "%cTransfer-Encoding: chunked", "xxxxxxxxxxxxx"},
	{"endspace", "Transfer-Encoding: chunked%c", "xxxcxxxxxcxxx"},
	{"xprespace", "X: X%cTransfer-Encoding: chunked", "xxxixxxxxixii"},
	{"endspacex", "Transfer-Encoding: chunked%cX: X", "xxxxxxxxxxxxx"},
	{"rxprespace", "X: X\r%cTransfer-Encoding: chunked", "xxxxcxxxxxxxx"},
	{"xnprespace", "X: X%c\nTransfer-Encoding: chunked", "xxxxxxxcxxxxx"},
	{"endspacerx", "Transfer-Encoding: chunked\r%cX: X", "xxxxcxxxxxxxx"},
	{"endspacexn", "Transfer-Encoding: chunked%c\nX: X", "xxxxxxxcxxxxx"},
}

// smugglerNamed are smuggler.py's named mutations, and a few of the same
// kind.
var smugglerNamed = []mutation{
	{"nameprefix1", " Transfer-Encoding: chunked", 'x'},
	{"tabprefix1", "Transfer-Encoding:\tchunked", 'c'},
	{"nospace", "Transfer-Encoding:chunked", 'c'},
	{"tabprefix2", "Transfer-Encoding\t:\tchunked", 'x'},
	{"space1", "Transfer-Encoding : chunked", 'x'},
	{"spacejoin1", "Transfer Encoding: chunked", 'x'},
	{"underjoin1", "Transfer_Encoding: chunked", 'x'},
	{"smashed", "Transfer Encoding:chunked", 'x'},
	{"valueprefix1", "Transfer-Encoding:  chunked", 'c'},
	{"vertprefix1", "Transfer-Encoding:\x0bchunked", 'x'},
	{"commaCow", "Transfer-Encoding: chunked, cow", 'x'},
	{"cowComma", "Transfer-Encoding: cow, chunked", '5'},
	{"contentEnc", "Content-Encoding: chunked", 'i'},
	{"linewrapped1", "Transfer-Encoding:\n chunked", 'x'},
	{"linewrapped-crlf", "Transfer-Encoding:\r\n chunked", 'x'},
	{"quoted", "Transfer-Encoding: \"chunked\"", 'x'},
	{"aposed", "Transfer-Encoding: 'chunked'", 'x'},
	{"lazygrep", "Transfer-Encoding: chunk", 'x'},
	{"sarcasm", "TrAnSFer-EnCODinG: cHuNkeD", 'c'},
	{"yelling", "TRANSFER-ENCODING: CHUNKED", 'c'},
	{"lowercase", "transfer-encoding: chunked", 'c'},
	{"0dsuffix", "Transfer-Encoding: chunked\r", 'x'},
	{"tabsuffix", "Transfer-Encoding: chunked\t", 'c'},
	{"revdualchunk", "Transfer-Encoding: cow\r\nTransfer-Encoding: chunked", '5'},
	{"dualchunk", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity", 'x'},
	{"doublechunk", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", 'x'},
	{"commachunk", "Transfer-Encoding: chunked,chunked", 'x'},
	{"emptycomma", "Transfer-Encoding: , chunked", 'x'},
	{"identitychunk", "Transfer-Encoding: identity, chunked", '5'},
	{"0dspam", "Transfer\r-Encoding: chunked", 'x'},
	{"nested", "Transfer-Encoding: cow chunked bar", 'x'},
	{"spaceFF", "Transfer-Encoding:\xffchunked", 'x'},
	{"accentTE", "Transf\x82r-Encoding: chunked", 'x'},
	{"accentCH", "Transfer-Encoding: ch\x96nked", 'x'},
	{"unispace", "Transfer-Encoding:\xa0chunked", 'x'},
	{"nel-prefix", "X: X\x85Transfer-Encoding: chunked", 'i'},
	{"connection", "Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked", 'c'},
	{"parameter", "Transfer-Encoding: chunked;q=1", 'x'},
	{"nul-suffix", "Transfer-Encoding: chunked\x00", 'x'},
	{"trailing-comma", "Transfer-Encoding: chunked,", 'x'},
	{"empty", "Transfer-Encoding: ", 'x'},
}

func smugglerMutations() []mutation {
	all := append([]mutation(nil), smugglerNamed...)
	for _, p := range smugglerPatterns {
		for i, b := range smugglerBytes {
			all = append(all, mutation{fmt.Sprintf("%s-%02x", p.name, b), fmt.Sprintf(p.format, b), p.outcomes[i]})
		}
	}
	return all
}

// smugglerCases sends each mutation twice: alone ("/te", a chunked body
// of "abc" then cNext), and with a Content-Length that covers that body
// ("/cl.te"). A mutation that is read as chunked must be refused when a
// Content-Length comes with it; one that is ignored leaves the
// Content-Length in charge.
func smugglerCases() []confCase {
	var cases []confCase
	for _, m := range smugglerMutations() {
		te := confCase{name: "smuggler/te/" + m.name, in: cPost(m.line+"\r\n", cChunked) + cNext}
		clte := confCase{name: "smuggler/cl.te/" + m.name, in: cPost(cl(len(cChunked))+m.line+"\r\n", cChunked) + cNext}
		switch m.outcome {
		case 'c':
			te.want = []confResp{echo("abc"), echo("")}
			clte.want = []confResp{refused(400)}
		case 'i':
			// The chunk-size line is read as the next request line.
			te.want = []confResp{echo(""), refused(400)}
			clte.want = []confResp{echo(cChunked), echo("")}
		case 'x':
			te.want = []confResp{refused(400)}
			clte.want = []confResp{refused(400)}
		case '5':
			te.want = []confResp{refused(501)}
			clte.want = []confResp{refused(400)}
		}
		cases = append(cases, te, clte)
	}
	return cases
}

func gardenCases() []confCase {
	r400 := []confResp{refused(400)}
	chunk := func(name, body string) confCase {
		return confCase{name: "garden/" + name, in: cTE(body) + cSmuggled, want: r400}
	}
	field := func(name, line string) confCase {
		return confCase{name: "garden/" + name, in: cGet("/echo", line+"\r\n") + cSmuggled, want: r400}
	}
	length := func(name, value string) confCase {
		return confCase{name: "garden/" + name, in: cPost("Content-Length: "+value+"\r\n", "abc") + cSmuggled, want: r400}
	}
	host := func(name, value string) confCase {
		return confCase{name: "garden/" + name, in: "GET /echo HTTP/1.1\r\nHost: " + value + "\r\n\r\n" + cSmuggled, want: r400}
	}
	return []confCase{
		// Chunk sizes that some parsers read as numbers (strtol, int(x, 16)).
		chunk("chunk-size-0x-prefix", "0x3\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-0x-last", "3\r\nabc\r\n0x0\r\n\r\n"),
		chunk("chunk-size-plus", "+3\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-minus", "-3\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-underscore", "1_0\r\n0123456789abcdef\r\n0\r\n\r\n"),
		chunk("chunk-size-leading-space", " 3\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-trailing-space", "3 \r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-trailing-tab", "3\t\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-not-hex", "g\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-17-digits", "00000000000000003\r\nabc\r\n0\r\n\r\n"),
		{name: "garden/chunk-size-2^64-wraps", in: cTE("10000000000000003\r\nabc\r\n0\r\n\r\n") + cSmuggled, want: []confResp{refused(413)}},
		chunk("chunk-size-nul", "3\x00\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-vt", "3\x0b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-cr-cr-lf", "3\r\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-size-only-crlf-last", "3\r\nabc\r\n\r\n"),
		{name: "garden/chunk-size-over-max-body", in: cTE("FFFFFFFFFFFFFFFF\r\nabc") + cSmuggled, want: []confResp{refused(413)}},
		{name: "garden/chunk-sizes-add-past-max-body", in: cTE("200000\r\n"+strings.Repeat("a", 0x200000)+"\r\n200001\r\n") + cSmuggled, want: []confResp{refused(413)}},
		// Chunk extensions.
		chunk("chunk-ext-empty", "3;\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-no-name", "3;=v\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-no-value", "3;a=\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-space-after-semicolon", "3; a=b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-space-before-semicolon", "3 ;a=b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-space-around-equals", "3;a = b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-space-in-value", "3;a=b c\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-nul", "3;a\x00\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-bare-lf", "3;a=b\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-bare-cr", "3;a=b\rabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-unterminated-quote", "3;a=\"b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-quote-hides-crlf", "3;a=\"\r\n0\r\n\r\n\"\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-quote-then-token", "3;a=\"b\"c\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-non-token-name", "3;a@b\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-ctl-in-quote", "3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n"),
		chunk("chunk-ext-over-4k", "3;"+strings.Repeat("a", 4096)+"\r\nabc\r\n0\r\n\r\n"),
		{name: "garden/chunk-ext-4k-allowed", in: cTE("3;"+strings.Repeat("a", 4000)+"\r\nabc\r\n0\r\n\r\n") + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "garden/chunk-ext-on-last-chunk", in: cTE("3\r\nabc\r\n0;a=\"b\"\r\n\r\n") + cNext, want: []confResp{echo("abc"), echo("")}},
		// Chunk data and the lines around it.
		chunk("chunk-data-lf-only", "3\r\nabc\n0\r\n\r\n"),
		chunk("chunk-data-no-crlf", "3\r\nabc0\r\n\r\n"),
		chunk("chunk-data-xx-instead-of-crlf", "3\r\nabcXX0\r\n\r\n"),
		chunk("chunk-data-space-before-crlf", "3\r\nabc \r\n0\r\n\r\n"),
		chunk("last-chunk-bare-cr", "0\r\n\r"),
		chunk("last-chunk-then-request", "0\r\n"+cSmuggled),
		chunk("trailer-nul", "0\r\nX: \x00\r\n\r\n"),
		chunk("trailer-empty-name", "0\r\n: v\r\n\r\n"),
		chunk("trailer-leading-space", "0\r\n X: v\r\n\r\n"),
		{name: "garden/trailer-over-limit", in: cTE("0\r\nX: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"), want: []confResp{refused(431)}},
		// NUL and other controls in the head.
		{name: "garden/nul-before-request", in: "\x00" + cNext, want: r400},
		{name: "garden/nul-in-method", in: "G\x00T /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/nul-in-target", in: "GET /echo\x00 HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/nul-after-version", in: "GET /echo HTTP/1.1\x00\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/high-byte-in-method", in: "G\xc9T /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-space-inside", in: "GET /e cho HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-tab-inside", in: "GET /e\tcho HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-del", in: "GET /echo\x7f HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-utf8", in: "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-backslash-first", in: "GET \\echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-absolute-no-authority", in: "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-absolute-bad-port", in: "GET http://a:x/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-absolute-backslash", in: "GET http://a\\b/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-absolute-comma-host", in: "GET http://a,b/echo HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		{name: "garden/target-asterisk-suffix", in: "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", want: r400},
		field("name-nul", "X\x00: v"),
		field("name-space-inside", "X Y: v"),
		field("name-tab-inside", "X\tY: v"),
		field("name-paren", "X(Y): v"),
		field("name-quote", "X\"Y: v"),
		field("name-slash", "X/Y: v"),
		field("name-at", "X@Y: v"),
		field("name-brackets", "X[Y]: v"),
		field("name-braces", "X{Y}: v"),
		field("name-utf8", "\xc3\xa9: v"),
		field("name-del", "X\x7f: v"),
		field("name-colon-only", ":"),
		field("value-nul", "X: a\x00b"),
		field("value-soh", "X: a\x01b"),
		field("value-vt", "X: a\x0bb"),
		field("value-ff", "X: a\x0cb"),
		field("value-esc", "X: a\x1bb"),
		field("value-us", "X: a\x1fb"),
		field("value-del", "X: a\x7fb"),
		field("value-leading-vt", "X:\x0bv"),
		field("value-trailing-ff", "X: v\x0c"),
		// Content-Length values that some parsers read as numbers.
		length("cl-plus", "+3"),
		length("cl-minus", "-3"),
		length("cl-hex", "0x3"),
		length("cl-decimal-point", "3.0"),
		length("cl-exponent", "3e0"),
		length("cl-inner-space", "3 3"),
		length("cl-nul-suffix", "3\x00"),
		length("cl-vt-prefix", "\x0b3"),
		length("cl-ff-suffix", "3\x0c"),
		length("cl-underscore", "1_0"),
		length("cl-arabic-digit", "\xd9\xa3"),
		length("cl-fullwidth-digit", "\xef\xbc\x93"),
		length("cl-quoted", "\"3\""),
		length("cl-comma-list", "3,3"),
		length("cl-trailing-comma", "3,"),
		length("cl-overflow-int64", "9223372036854775808"),
		length("cl-overflow-uint64", "18446744073709551619"),
		{name: "garden/cl-int64-max", in: cPost("Content-Length: 9223372036854775807\r\n", "abc") + cSmuggled, want: []confResp{refused(413)}},
		{name: "garden/cl-many-leading-zeros", in: cPost("Content-Length: 00000000000000000000000003\r\n", "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		// Host values.
		host("host-space-inside", "a b"),
		host("host-tab-inside", "a\tb"),
		host("host-bad-port", "a:b"),
		host("host-two-ports", "a:80:80"),
		host("host-unclosed-bracket", "[::1"),
		host("host-bare-ipv6", "::1"),
		host("host-zone-id", "[fe80::1%25eth0]"),
		host("host-ipvfuture", "[v1.x]"),
		host("host-bad-pct", "a%zz"),
		host("host-short-pct", "a%4"),
		host("host-backslash", "a\\b"),
		host("host-port-only", ":80"),
		host("host-comma-list", "a,b"),
		host("host-nul", "a\x00"),
		host("host-utf8", "\xc3\xa9.example"),
		{name: "garden/host-sub-delims", in: "GET /echo HTTP/1.1\r\nHost: a!$&'()*+;=b\r\n\r\n", want: []confResp{echo("")}},
		{name: "garden/host-empty-port", in: "GET /echo HTTP/1.1\r\nHost: a:\r\n\r\n", want: []confResp{echo("")}},
		// Framing fields spelled in ways some gateways normalize.
		{name: "garden/content_length-underscore", in: cPost("Content_Length: 3\r\n", "abc") + cSmuggled, want: r400},
		{name: "garden/te-empty-with-cl", in: cPost("Transfer-Encoding:\r\n"+cl(3), "abc") + cSmuggled, want: r400},
		{name: "garden/te-chunked-then-empty-field", in: cPost("Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", cChunked) + cSmuggled, want: r400},
		{name: "garden/cl-in-trailer-only", in: cTE("3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n") + cNext, want: []confResp{echo("abc"), echo("")}},
		// Bodies on methods some servers assume bodiless (CL.0).
		{name: "garden/get-cl-body-is-request", in: cGet("/echo", cl(len(cSmuggled))) + cSmuggled + cNext, want: []confResp{echo(cSmuggled), echo("")}},
		{name: "garden/options-cl-body", in: "OPTIONS /echo HTTP/1.1\r\nHost: a\r\n" + cl(len(cSmuggled)) + "\r\n" + cSmuggled + cNext, want: []confResp{echo(cSmuggled), echo("")}},
		{name: "garden/head-chunked-body", in: "HEAD /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + cChunked + cNext, want: []confResp{headResp(200), echo("")}},
	}
}

func paperCases() []confCase {
	r400 := []confResp{refused(400)}
	return []confCase{
		// Kettle 2019, "HTTP Desync Attacks".
		{name: "paper/CL.TE", in: cPost(cl(6)+"Transfer-Encoding: chunked\r\n", "0\r\n\r\nG") + cNext, want: r400},
		{name: "paper/TE.CL", in: cPost("Transfer-Encoding: chunked\r\n"+cl(4), "5c\r\nGPOST / HTTP/1.1\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n"), want: r400},
		{name: "paper/TE.CL-cl-after", in: cPost(cl(3)+"Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(cSmuggled), cSmuggled)), want: r400},
		{name: "paper/TE.TE-second-field-obfuscated", in: cPost("Transfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n", cChunked) + cSmuggled, want: r400},
		{name: "paper/TE.TE-x-prefix", in: cPost("Transfer-Encoding: xchunked\r\n", cChunked) + cSmuggled, want: r400},
		{name: "paper/TE.TE-newline-value", in: cPost("Transfer-Encoding\r\n: chunked\r\n", cChunked) + cSmuggled, want: r400},
		{name: "paper/TE.TE-x-header-lf", in: cPost("X: X\nTransfer-Encoding: chunked\r\n", cChunked) + cSmuggled, want: r400},
		{name: "paper/CL.TE-te-http10", in: "POST /echo HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + cSmuggled, want: r400},
		{name: "paper/TE-http10-keep-alive", in: "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" + cChunked + cSmuggled, want: r400},
		{name: "paper/CL.TE-identity", in: cPost(cl(3)+"Transfer-Encoding: identity\r\n", "abc") + cSmuggled, want: r400},
		{name: "paper/chunk-size-wraps-64-bits", in: cTE("10000000000000000\r\n\r\n0\r\n\r\n") + cSmuggled, want: []confResp{refused(413)}},
		// Linhart, Klein, Heled, Orrin 2005, "HTTP Request Smuggling".
		{name: "paper/linhart-double-cl", in: cPost(cl(0)+cl(len(cSmuggled)), cSmuggled) + cNext, want: r400},
		{name: "paper/linhart-double-cl-get", in: cGet("/echo", cl(len(cSmuggled))+cl(0)) + cSmuggled, want: r400},
		{name: "paper/linhart-cl-space-before-colon", in: cPost("Content-Length : 3\r\n", "abc") + cSmuggled, want: r400},
		{name: "paper/linhart-cl-garbage", in: cPost("Content-Length: 3abc\r\n", "abc") + cSmuggled, want: r400},
		{name: "paper/linhart-cl-cr-inside", in: cPost("Content-Length: 3\r0\r\n", "abc") + cSmuggled, want: r400},
		{name: "paper/linhart-request-after-null", in: cPost(cl(3), "abc") + "\x00" + cSmuggled, want: []confResp{echo("abc"), refused(400)}},
		// Kettle 2022, "Browser-Powered Desync Attacks": CL.0 and
		// pause-based desyncs; a server that honours Content-Length on
		// every method and waits for the body cannot be desynced by them.
		{name: "paper/kettle-cl.0-get-static", in: "GET /plaintext HTTP/1.1\r\nHost: a\r\n" + cl(len(cSmuggled)) + "\r\n" + cSmuggled + cNext,
			want: []confResp{confResp{status: 200, body: "Hello, World!"}, echo("")}},
		{name: "paper/kettle-cl.0-404", in: cGet("/nope", cl(len(cSmuggled))) + cSmuggled + cNext, want: []confResp{served(404), echo("")}},
		{name: "paper/kettle-cl.0-405", in: "POST /plaintext HTTP/1.1\r\nHost: a\r\n" + cl(len(cSmuggled)) + "\r\n" + cSmuggled + cNext, want: []confResp{served(405), echo("")}},
		{name: "paper/kettle-pause-partial-body", in: cPost(cl(len(cSmuggled)+1), cSmuggled), end: endPending},
		{name: "paper/kettle-cl-obs-fold", in: cPost("Content-Length:\r\n 3\r\n", "abc") + cSmuggled, want: r400},
		{name: "paper/kettle-cl-tab-before-colon", in: cPost("Content-Length\t: 3\r\n", "abc") + cSmuggled, want: r400},
		// Kettle 2025, "HTTP/1.1 must die": 0.CL and Expect-based desyncs.
		{name: "paper/kettle-expect-obfuscated", in: cPost("Expect: y 100-continue\r\n"+cl(3), "abc") + cSmuggled, want: []confResp{refused(417)}},
		{name: "paper/kettle-expect-vt", in: cPost("Expect:\x0b100-continue\r\n"+cl(3), "abc") + cSmuggled, want: r400},
		{name: "paper/kettle-expect-suffix", in: cPost("Expect: 100-continuex\r\n"+cl(3), "abc") + cSmuggled, want: []confResp{refused(417)}},
		{name: "paper/kettle-expect-list", in: cPost("Expect: 100-continue, x\r\n"+cl(3), "abc") + cSmuggled, want: []confResp{refused(417)}},
		{name: "paper/kettle-expect-twice", in: cPost("Expect: 100-continue\r\nExpect: 100-continue\r\n"+cl(3), "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		{name: "paper/kettle-0.cl-cl-with-space-prefix", in: cGet("/echo", " Content-Length: 3\r\n") + "abc" + cSmuggled, want: r400},
		{name: "paper/kettle-0.cl-cl-newline", in: cGet("/echo", "Content-Length:\n3\r\n") + "abc" + cSmuggled, want: r400},
		{name: "paper/kettle-0.cl-host-prefix", in: "GET /echo HTTP/1.1\r\n Host: a\r\n" + cl(3) + "\r\nabc" + cSmuggled, want: r400},
		{name: "paper/kettle-te-hop-by-hop", in: cPost("Connection: Content-Length\r\n"+cl(3), "abc") + cNext, want: []confResp{echo("abc"), echo("")}},
		// Davison 2019, "Abusing HTTP hop-by-hop request headers".
		{name: "paper/hop-by-hop-close-and-host", in: cGet("/echo", "Connection: close, Host\r\n") + cNext, want: []confResp{echo("")}, end: endClosed},
		// Refusal ends the connection: nothing after it is served.
		{name: "paper/refusal-then-valid", in: cPost("Content-Length: x\r\n", "") + cNext + cNext, want: r400},
		{name: "paper/refusal-mid-pipeline", in: cNext + cPost(cl(1)+cl(1), "a") + cNext, want: []confResp{echo(""), refused(400)}},
	}
}

func h1specCases() []confCase {
	line := func(n int) string { // a request line of n bytes, without CRLF
		prefix, suffix := "GET /echo?", " HTTP/1.1"
		return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
	}
	fieldsOf := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-%d: v\r\n", i)
		}
		return b.String()
	}
	// The header section counts from after the request line: Host (9
	// bytes), "X: " value CRLF, and the empty line.
	section := func(n int) string { return "X: " + strings.Repeat("v", n-9-3-2-2) + "\r\n" }
	var pipe16 string
	var pipe16want []confResp
	for i := range 16 {
		pipe16 += cPost(cl(2), fmt.Sprintf("%02d", i))
		pipe16want = append(pipe16want, echo(fmt.Sprintf("%02d", i)))
	}
	return []confCase{
		{name: "h1spec/pipelining-16", in: pipe16, want: pipe16want},
		{name: "h1spec/pipelining-mixed-framing", in: cNext + cPost(cl(2), "ab") + cTE(cChunked[:len(cChunked)-2]+"T: 1\r\n\r\n") + "HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n" + cGet("/nope", "") + cNext,
			want: []confResp{echo(""), echo("ab"), echo("abc"), headResp(200), served(404), echo("")}},
		{name: "h1spec/keep-alive-after-404", in: cGet("/nope", "") + cNext, want: []confResp{served(404), echo("")}},
		{name: "h1spec/405-body-skipped", in: "POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" + cNext, want: []confResp{served(405), echo("")}},
		{name: "h1spec/405-chunked-body-skipped", in: "PUT /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + cChunked + cNext, want: []confResp{served(405), echo("")}},
		{name: "h1spec/options-registered-path", in: "OPTIONS /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" + cNext, want: []confResp{served(204), echo("")}},
		{name: "h1spec/head-get-route", in: "HEAD /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" + "HEAD /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" + cNext, want: []confResp{headResp(200), headResp(200), echo("")}},
		{name: "h1spec/http10-pipelined-keep-alive", in: "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.0\r\n\r\n" + cNext,
			want: []confResp{echo(""), echo(""), echo("")}, end: endClosed},
		{name: "h1spec/close-then-garbage", in: cGet("/echo", "Connection: close\r\n") + "\x00\x01garbage\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "h1spec/http11-and-10-mixed", in: cNext + "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + cNext, want: []confResp{echo(""), echo(""), echo("")}},
		// Requests still arriving.
		{name: "h1spec/pending-request-line", in: "GET /echo HTTP/1.1", end: endPending},
		{name: "h1spec/pending-head", in: "GET /echo HTTP/1.1\r\nHost: a\r\n", end: endPending},
		{name: "h1spec/pending-cl-body", in: cPost(cl(10), "abc"), end: endPending},
		{name: "h1spec/pending-after-served", in: cNext + "GET /ec", want: []confResp{echo("")}, end: endPending},
		{name: "h1spec/pending-one-crlf", in: "\r\n", end: endPending},
		{name: "h1spec/pending-expect-body", in: cPost("Expect: 100-continue\r\n"+cl(3), ""), end: endPending},
		// Limits, at and past each bound.
		{name: "h1spec/limit-request-line-8192", in: line(8192) + "\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "h1spec/limit-request-line-8193", in: line(8193) + "\r\nHost: a\r\n\r\n" + cNext, want: []confResp{refused(414)}},
		{name: "h1spec/limit-request-line-unterminated", in: line(9000), want: []confResp{refused(414)}},
		{name: "h1spec/limit-header-section-64k", in: "GET /echo HTTP/1.1\r\nHost: a\r\n" + section(64<<10) + "\r\n" + cNext, want: []confResp{echo(""), echo("")}},
		{name: "h1spec/limit-header-section-64k+1", in: "GET /echo HTTP/1.1\r\nHost: a\r\n" + section(64<<10+1) + "\r\n" + cNext, want: []confResp{refused(431)}},
		{name: "h1spec/limit-header-section-unterminated", in: "GET /echo HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 70000), want: []confResp{refused(431)}},
		{name: "h1spec/limit-100-fields", in: cGet("/echo", fieldsOf(99)) + cNext, want: []confResp{echo(""), echo("")}},
		{name: "h1spec/limit-101-fields", in: cGet("/echo", fieldsOf(100)) + cNext, want: []confResp{refused(431)}},
		{name: "h1spec/limit-method-32", in: strings.Repeat("M", 32) + " /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{echo("")}},
		{name: "h1spec/limit-method-33", in: strings.Repeat("M", 33) + " /echo HTTP/1.1\r\nHost: a\r\n\r\n", want: []confResp{refused(501)}},
		{name: "h1spec/limit-cl-max-body-pending", in: cPost(cl(4<<20), "abc"), end: endPending},
		{name: "h1spec/limit-cl-over-max-body", in: cPost(cl(4<<20+1), "abc") + cSmuggled, want: []confResp{refused(413)}},
		{name: "h1spec/limit-expect-over-max-body", in: cPost("Expect: 100-continue\r\n"+cl(4<<20+1), ""), want: []confResp{refused(413)}},
		{name: "h1spec/limit-chunked-over-max-body", in: cTE("400001\r\n") + cSmuggled, want: []confResp{refused(413)}},
		{name: "h1spec/limit-trailer-fields", in: cTE("0\r\n" + fieldsOf(99) + "\r\n"), want: []confResp{refused(431)}},
		{name: "h1spec/limit-trailer-fields-fit", in: cTE("0\r\n"+fieldsOf(98)+"\r\n") + cNext, want: []confResp{echo(""), echo("")}},
		// Not HTTP/1.x at all.
		{name: "h1spec/http2-preface", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", want: []confResp{refused(505)}},
		{name: "h1spec/tls-client-hello", in: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", want: []confResp{refused(400)}},
		{name: "h1spec/ssh-banner", in: "SSH-2.0-OpenSSH_9.6\r\n", want: []confResp{refused(400)}},
		{name: "h1spec/empty-lines-flood", in: "\r\n\r\n\r\n\r\n\r\n\r\n", want: []confResp{refused(400)}},
	}
}

func clientCases() []confCase {
	return []confCase{
		{name: "client/curl-get", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/curl-post-form", in: "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nContent-Length: 7\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=1&b=2", want: []confResp{echo("a=1&b=2")}},
		{name: "client/curl-expect-100", in: "PUT /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello", want: []confResp{echo("hello")}},
		{name: "client/curl-upload-chunked", in: "PUT /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: []confResp{echo("hello")}},
		{name: "client/curl-proxy-absolute-form", in: "GET http://127.0.0.1:8080/echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/curl-http10", in: "GET /echo HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "client/chrome-get", in: "GET /echo HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\n" +
			"sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\nsec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\n" +
			"Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
			"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
			"Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
			"Accept-Language: en-US,en;q=0.9\r\nCookie: a=b; session=\"x y\"; utf8=caf\xc3\xa9\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/firefox-post", in: "POST /echo HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
			"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n" +
			"Origin: http://localhost:8080\r\nConnection: keep-alive\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-origin\r\nPriority: u=4\r\n\r\nhi", want: []confResp{echo("hi")}},
		{name: "client/safari-get", in: "GET /echo?q=%E2%9C%93 HTTP/1.1\r\nHost: localhost:8080\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
			"Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15\r\n" +
			"Accept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/browser-websocket-upgrade", in: "GET /echo HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/old-ie-crlf-after-post", in: cPost(cl(3), "abc") + "\r\n" + cPost(cl(3), "def") + "\r\n", want: []confResp{echo("abc"), echo("def")}, end: endPending},
		{name: "client/go-get", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/go-post", in: "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 4\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n{\"a\"", want: []confResp{echo("{\"a\"")}},
		{name: "client/go-chunked-trailer", in: "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nAccept-Encoding: gzip\r\n\r\n" +
			"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n", want: []confResp{echo("hello world")}},
		{name: "client/go-close", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "client/python-requests", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/python-requests-generator-chunked", in: "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3\r\nabc\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", want: []confResp{echo("abcabcdefghijklmnopqrstuvwxyz")}},
		{name: "client/python-urllib", in: "GET /echo HTTP/1.1\r\nAccept-Encoding: identity\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Python-urllib/3.12\r\nConnection: close\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "client/python-http-client-put", in: "PUT /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", want: []confResp{echo("abc")}},
		{name: "client/node-undici", in: "POST /echo HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\ncontent-type: text/plain;charset=UTF-8\r\naccept: */*\r\naccept-language: *\r\nsec-fetch-mode: cors\r\nuser-agent: node\r\naccept-encoding: gzip, deflate\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
			want: []confResp{echo("hi")}},
		{name: "client/java-httpurlconnection", in: "GET /echo HTTP/1.1\r\nUser-Agent: Java/21.0.2\r\nHost: 127.0.0.1:8080\r\nAccept: text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2\r\nConnection: keep-alive\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/okhttp", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip\r\nUser-Agent: okhttp/4.12.0\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/libwww-perl-te-close", in: "GET /echo HTTP/1.1\r\nTE: deflate,gzip;q=0.3\r\nConnection: TE, close\r\nHost: 127.0.0.1:8080\r\nUser-Agent: libwww-perl/6.76\r\n\r\n", want: []confResp{echo("")}, end: endClosed},
		{name: "client/wrk", in: "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", want: []confResp{confResp{status: 200, body: "Hello, World!"}}},
		{name: "client/wrk-pipeline-16", in: strings.Repeat("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", 16), want: repeatResp(confResp{status: 200, body: "Hello, World!"}, 16)},
		{name: "client/ab", in: "GET /plaintext HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n", want: []confResp{confResp{status: 200, body: "Hello, World!"}}, end: endClosed},
		{name: "client/ab-keep-alive", in: strings.Repeat("GET /plaintext HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n", 2),
			want: []confResp{confResp{status: 200, body: "Hello, World!", has: "Connection: keep-alive\r\n"}, confResp{status: 200, body: "Hello, World!"}}},
		{name: "client/ab-post", in: "POST /echo HTTP/1.0\r\nContent-length: 3\r\nContent-type: text/plain\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\nabc", want: []confResp{echo("abc")}, end: endClosed},
		{name: "client/h2load-http1", in: "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: h2load nghttp2/1.59.0\r\n\r\n", want: []confResp{confResp{status: 200, body: "Hello, World!"}}},
		{name: "client/h2c-upgrade", in: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", want: []confResp{echo("")}},
		{name: "client/nginx-proxy", in: "POST /echo HTTP/1.0\r\nHost: backend\r\nX-Real-IP: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", want: []confResp{echo("abc")}, end: endClosed},
		{name: "client/haproxy-health-check", in: "OPTIONS / HTTP/1.0\r\n\r\n", want: []confResp{served(404)}, end: endClosed},
		{name: "client/kubernetes-probe", in: "GET /plaintext HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: kube-probe/1.29\r\nAccept: */*\r\nConnection: close\r\n\r\n", want: []confResp{confResp{status: 200, body: "Hello, World!"}}, end: endClosed},
		{name: "client/big-cookie", in: cGet("/echo", "Cookie: "+strings.Repeat("k=v; ", 8000)+"\r\n"), want: []confResp{echo("")}},
	}
}

func repeatResp(r confResp, n int) []confResp {
	var all []confResp
	for range n {
		all = append(all, r)
	}
	return all
}

// confGot is one response as received.
type confGot struct {
	status int
	head   string // status line and field lines
	body   string
}

// parseResponses splits out into responses, skipping interim 100s. want
// says which answers are to HEAD (no body after the head); past want,
// every response is read by its Content-Length. rest is what does not make
// a whole response.
func parseResponses(out string, want []confResp) (got []confGot, rest string) {
	for {
		end := strings.Index(out, "\r\n\r\n")
		if end < 0 || len(out) < 12 || !strings.HasPrefix(out, "HTTP/1.1 ") {
			return got, out
		}
		head := out[:end+2]
		status, err := strconv.Atoi(out[9:12])
		if err != nil {
			return got, out
		}
		if status == 100 {
			out = out[end+4:]
			continue
		}
		n := 0
		if i := strings.Index(head, "\r\nContent-Length: "); i >= 0 {
			v := head[i+len("\r\nContent-Length: "):]
			v = v[:strings.Index(v, "\r\n")]
			if n, err = strconv.Atoi(v); err != nil {
				return got, out
			}
		}
		if len(got) < len(want) && want[len(got)].head || status == 204 || status == 304 {
			n = 0
		}
		if len(out) < end+4+n {
			return got, out
		}
		got = append(got, confGot{status: status, head: head, body: out[end+4 : end+4+n]})
		out = out[end+4+n:]
	}
}

// check compares the responses received with c.want and returns what is
// wrong, if anything.
func (c *confCase) check(got []confGot) []string {
	var bad []string
	if len(got) != len(c.want) {
		bad = append(bad, fmt.Sprintf("got %d responses %v, want %d %v", len(got), statuses(got), len(c.want), wantStatuses(c.want)))
	}
	for i := range min(len(got), len(c.want)) {
		g, w := got[i], c.want[i]
		if g.status != w.status {
			bad = append(bad, fmt.Sprintf("response %d: got status %d, want %d (%q)", i, g.status, w.status, g.body))
			continue
		}
		if w.refused && !strings.Contains(g.head, "\r\nConnection: close\r\n") {
			bad = append(bad, fmt.Sprintf("response %d: refusal without Connection: close", i))
		}
		if w.has != "" && !strings.Contains(g.head+g.body, w.has) {
			bad = append(bad, fmt.Sprintf("response %d: got %q, want it to contain %q", i, g.head+g.body, w.has))
		}
		switch {
		case w.echo:
			var e struct{ Body []byte }
			if err := json.Unmarshal([]byte(g.body), &e); err != nil {
				bad = append(bad, fmt.Sprintf("response %d: %v in %q", i, err, g.body))
			} else if string(e.Body) != w.body {
				bad = append(bad, fmt.Sprintf("response %d: got body %q, want %q", i, e.Body, w.body))
			}
		case w.body != "" && g.body != w.body:
			bad = append(bad, fmt.Sprintf("response %d: got body %q, want %q", i, g.body, w.body))
		}
	}
	return bad
}

// wantEnd is the state the connection must be in after the responses.
func (c *confCase) wantEnd() confEnd {
	if n := len(c.want); n > 0 && c.want[n-1].refused {
		return endClosed
	}
	return c.end
}

// served reports how many requests reach a handler: all but a refusal.
func (c *confCase) served() int {
	n := len(c.want)
	if n > 0 && c.want[n-1].refused {
		n--
	}
	return n
}

func statuses(got []confGot) []int {
	var s []int
	for _, g := range got {
		s = append(s, g.status)
	}
	return s
}

func wantStatuses(want []confResp) []int {
	var s []int
	for _, w := range want {
		s = append(s, w.status)
	}
	return s
}
