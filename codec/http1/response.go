package http1

import (
	"strconv"

	"github.com/tokamak-io/tokamak/handlers"
)

// continueLine is the interim response to "Expect: 100-continue".
const continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

// What the Connection header of a response says.
const (
	connNone      uint8 = iota // nothing: an HTTP/1.1 connection that stays open
	connClose                  // "Connection: close"
	connKeepAlive              // "Connection: keep-alive", to an HTTP/1.0 client
)

// maxKeptBody is the largest response body capacity a loop keeps for the
// next request; a larger buffer is dropped after use.
const maxKeptBody = 1 << 20

// reasons holds the reason phrases of the codes RFC 9110 defines, and 429,
// 431 and 451.
var reasons = [...]string{
	100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
	200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
	204: "No Content", 205: "Reset Content", 206: "Partial Content",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
	304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
	410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
	414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
	417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Content",
	425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required",
	429: "Too Many Requests", 431: "Request Header Fields Too Large",
	451: "Unavailable For Legal Reasons",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
	511: "Network Authentication Required",
}

// classReasons are the phrases of codes without their own, by class.
var classReasons = [...]string{"", "Informational", "Success", "Redirection", "Client Error", "Server Error"}

// StatusText returns the reason phrase sent with code: its RFC 9110 name,
// or for other codes in 100–599 a name for its class ("Client Error"), or
// "" outside that range.
func StatusText(code int) string {
	if code < 100 || code > 599 {
		return ""
	}
	if code < len(reasons) && reasons[code] != "" {
		return reasons[code]
	}
	return classReasons[code/100]
}

// statusLines holds, for every code in 100–599, the response's first bytes
// up to the Date value: "HTTP/1.1 200 OK\r\nServer: tokamak\r\nDate: ".
var statusLines = func() (t [600]string) {
	for code := 100; code < 600; code++ {
		t[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + StatusText(code) +
			"\r\nServer: tokamak\r\nDate: "
	}
	return t
}()

// appendStart appends the status line, Server and Date of a response.
func appendStart(dst []byte, code int) []byte {
	st := now()
	if code == 200 {
		return append(dst, st.start200...)
	}
	dst = append(dst, statusLines[code]...)
	dst = append(dst, st.date[:]...)
	return append(dst, "\r\n"...)
}

// appendResponse appends the response w, for a request that was a HEAD
// request when head is set, with the Connection header conn. w's status
// must be in 200–599 (see validStatus).
func appendResponse(dst []byte, w *handlers.Response, head bool, conn uint8) []byte {
	code, body := w.Status(), w.Body()
	if code == 205 { // Reset Content: no content, said with a zero length
		body = body[:0]
	}
	length := int64(len(body))
	if code == 204 || code == 304 {
		body, length = nil, lengthNone
	}
	dst = appendHead(dst, w, length, conn)
	if !head {
		dst = append(dst, body...)
	}
	return dst
}

// appendHead appends the status line, Server, Date, the handler's fields,
// the framing — Content-Length when length >= 0, chunked when it is
// lengthChunked, nothing else — and the Connection header conn, then the
// empty line.
func appendHead(dst []byte, w *handlers.Response, length int64, conn uint8) []byte {
	dst = appendStart(dst, w.Status())
	dst = append(dst, w.HeaderBytes()...)
	switch {
	case length >= 0:
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, length, 10)
		dst = append(dst, "\r\n"...)
	case length == lengthChunked:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	switch conn {
	case connClose:
		dst = append(dst, "Connection: close\r\n"...)
	case connKeepAlive:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// Framings of appendHead other than a Content-Length.
const (
	lengthNone    = -1 // no framing field: 204, 304, a body that ends at the close
	lengthChunked = -2 // Transfer-Encoding: chunked
)

// validStatus reports whether a handler may answer with code: 1xx are
// interim responses, which the codec does not let handlers send, and codes
// outside 100–599 do not exist.
func validStatus(code int) bool { return 200 <= code && code <= 599 }

// AppendError appends a complete error response: the status line of code
// (500 if it is outside 100–599), Server, Date, a plain-text body
// "<code> <reason>: <msg>\n" with its Content-Length, and
// "Connection: close". The connection must close after it.
func AppendError(dst []byte, code int, msg string) []byte {
	return appendError(dst, code, msg, "")
}

// appendError is AppendError with extra header lines, each ending in CRLF.
func appendError(dst []byte, code int, msg, extra string) []byte {
	if code < 100 || code > 599 {
		code = 500
	}
	reason := StatusText(code)
	dst = appendStart(dst, code)
	dst = append(dst, extra...)
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(3+1+len(reason)+2+len(msg)+1), 10)
	dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	dst = append(dst, ": "...)
	dst = append(dst, msg...)
	return append(dst, '\n')
}
