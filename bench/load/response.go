package main

import (
	"bytes"
	"errors"
)

// errIncomplete: the buffer ends inside a response; read more.
var errIncomplete = errors.New("incomplete response")

// errMalformed: the bytes are not an HTTP/1.1 response. The connection is
// dropped and the error counted as a protocol error.
var errMalformed = errors.New("malformed response")

// maxHead bounds a response head; a server that sends more is broken.
const maxHead = 64 << 10

// response is what the load tool checks of one HTTP response.
type response struct {
	status int
	close  bool // Connection: close, or HTTP/1.0 without keep-alive
	body   int  // body bytes
}

// parseResponse reads the response at the start of b, to a request whose
// method was HEAD when head is set. It returns the bytes the response
// takes, errIncomplete when b ends inside it, or errMalformed.
//
// It walks the head line by line, once, and compares a field name only
// when its length is that of a field it needs: the load tool parses every
// response it counts, so this is its hottest code.
func parseResponse(b []byte, head bool, r *response) (int, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return 0, incompleteHead(b)
	}
	// HTTP/1.x SSS reason\r\n
	line := b[:i]
	if len(line) < 13 || line[len(line)-1] != '\r' || !bytes.HasPrefix(line, []byte("HTTP/1.")) ||
		(line[7] != '0' && line[7] != '1') || line[8] != ' ' || (len(line) > 13 && line[12] != ' ') {
		return 0, errMalformed
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, errMalformed
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return 0, errMalformed
	}
	*r = response{status: status, close: line[7] == '0'}
	length, chunked := -1, false
	n := i + 1 // the head's bytes so far
	for {
		i := bytes.IndexByte(b[n:], '\n')
		if i < 0 {
			return 0, incompleteHead(b)
		}
		field := b[n : n+i]
		n += i + 1
		if len(field) == 0 || field[len(field)-1] != '\r' {
			return 0, errMalformed
		}
		field = field[:len(field)-1]
		if len(field) == 0 {
			break // the empty line that ends the head
		}
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 {
			return 0, errMalformed
		}
		name := field[:colon]
		switch len(name) {
		case len("Content-Length"):
			if !bytes.EqualFold(name, []byte("Content-Length")) {
				continue
			}
			value := bytes.TrimSpace(field[colon+1:])
			v := 0
			if len(value) == 0 || len(value) > 12 {
				return 0, errMalformed
			}
			for _, c := range value {
				if c < '0' || c > '9' {
					return 0, errMalformed
				}
				v = v*10 + int(c-'0')
			}
			if length >= 0 && length != v {
				return 0, errMalformed
			}
			length = v
		case len("Transfer-Encoding"):
			if !bytes.EqualFold(name, []byte("Transfer-Encoding")) {
				continue
			}
			chunked = bytes.EqualFold(bytes.TrimSpace(field[colon+1:]), []byte("chunked"))
			if !chunked {
				return 0, errMalformed
			}
		case len("Connection"):
			if !bytes.EqualFold(name, []byte("Connection")) {
				continue
			}
			value := bytes.TrimSpace(field[colon+1:])
			switch {
			case bytes.EqualFold(value, []byte("close")):
				r.close = true
			case bytes.EqualFold(value, []byte("keep-alive")):
				r.close = false
			}
		}
	}
	switch {
	case head || status == 204 || status == 304 || status < 200:
		return n, nil
	case chunked:
		m, size, err := chunkedLen(b[n:])
		if err != nil {
			return 0, err
		}
		r.body = size
		return n + m, nil
	case length >= 0:
		if len(b)-n < length {
			return 0, errIncomplete
		}
		r.body = length
		return n + length, nil
	}
	return 0, errMalformed // a body up to the close: not for a load test
}

// incompleteHead is the verdict on b, which ends inside a response head:
// errIncomplete, unless it is already too long or does not start as one.
func incompleteHead(b []byte) error {
	if len(b) > maxHead {
		return errMalformed
	}
	if p := min(len(b), 5); !bytes.Equal(b[:p], []byte("HTTP/")[:p]) {
		return errMalformed
	}
	return errIncomplete
}

// chunkedLen returns the bytes a chunked body takes and its data size.
func chunkedLen(b []byte) (n, size int, err error) {
	for {
		i := bytes.Index(b[n:], []byte("\r\n"))
		if i < 0 {
			if len(b)-n > 1024 {
				return 0, 0, errMalformed
			}
			return 0, 0, errIncomplete
		}
		line := b[n : n+i]
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		if len(line) == 0 || len(line) > 8 {
			return 0, 0, errMalformed
		}
		c := 0
		for _, h := range line {
			switch {
			case '0' <= h && h <= '9':
				c = c<<4 | int(h-'0')
			case 'a' <= h && h <= 'f':
				c = c<<4 | int(h-'a'+10)
			case 'A' <= h && h <= 'F':
				c = c<<4 | int(h-'A'+10)
			default:
				return 0, 0, errMalformed
			}
		}
		n += i + 2
		if c == 0 {
			// Trailers, then the empty line.
			for {
				k := bytes.Index(b[n:], []byte("\r\n"))
				if k < 0 {
					return 0, 0, errIncomplete
				}
				n += k + 2
				if k == 0 {
					return n, size, nil
				}
			}
		}
		if len(b)-n < c+2 {
			return 0, 0, errIncomplete
		}
		if b[n+c] != '\r' || b[n+c+1] != '\n' {
			return 0, 0, errMalformed
		}
		n += c + 2
		size += c
	}
}
