package main

import (
	"errors"
	"fmt"
	"net"
)

// request is one decoded MessagePack-RPC request; its fields are views into
// the buffer given to parseRequest.
type request struct {
	id     []byte // the msgid as encoded
	method []byte // the method as encoded
	param  []byte // the first parameter as encoded; nil if params is []
}

// parseRequest decodes the request [0, msgid, method, params] at the start
// of b and returns it with its length in bytes.
func parseRequest(b []byte, maxFrame int) (request, int, error) {
	var q request
	if len(b) == 0 {
		return q, 0, errIncomplete
	}
	if b[0] != 0x94 {
		return q, 0, &frameError{0, fmt.Sprintf("type byte 0x%02x where a 4-element array belongs", b[0])}
	}
	typ, off, err := readUint(b, 1)
	if err != nil {
		return q, 0, err
	}
	if typ != 0 {
		return q, 0, &frameError{1, fmt.Sprintf("message type %d, want 0 (request)", typ)}
	}
	id, idEnd, err := readUint(b, off)
	if err != nil {
		return q, 0, err
	}
	if id > 1<<32-1 {
		return q, 0, &frameError{off, fmt.Sprintf("msgid %d over 32 bits", id)}
	}
	methodEnd, err := skipAt(b, idEnd, maxFrame, 1)
	if err != nil {
		return q, 0, err
	}
	end, err := skipAt(b, methodEnd, maxFrame, 1)
	if err != nil {
		return q, 0, err
	}
	// params is whole (skipAt checked it); find its first element.
	var count uint64
	first := methodEnd + 1
	switch t := b[methodEnd]; {
	case t&0xf0 == 0x90:
		count = uint64(t & 0x0f)
	case t == 0xdc:
		count, _ = uintAt(b, methodEnd+1, 2)
		first += 2
	case t == 0xdd:
		count, _ = uintAt(b, methodEnd+1, 4)
		first += 4
	default:
		return q, 0, &frameError{methodEnd, fmt.Sprintf("params of type 0x%02x, want an array", t)}
	}
	if count > 0 {
		paramEnd, _ := skipAt(b, first, maxFrame, 2)
		q.param = b[first:paramEnd]
	}
	q.id = b[off:idEnd]
	q.method = b[idEnd:methodEnd]
	return q, end, nil
}

// serveFake serves every method as an echo of its first parameter, with as
// little work as a goroutine-per-connection server can do: requests are
// decoded in place and all the answers to one read leave in one write.
func serveFake(ln net.Listener, maxFrame int) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go fakeConn(c, maxFrame)
	}
}

func fakeConn(c net.Conn, maxFrame int) {
	defer c.Close()
	in := newFrameBuf(64<<10, maxFrame)
	var out []byte
	for {
		_, err := in.fill(c)
		for {
			q, n, perr := parseRequest(in.pending(), maxFrame)
			if perr == errIncomplete {
				break
			}
			if perr != nil {
				c.Write(out) // what was answered before the bad frame
				return
			}
			out = append(out, 0x94, 0x01)
			out = append(out, q.id...)
			out = append(out, 0xc0)
			if q.param == nil {
				out = append(out, 0xc0)
			} else {
				out = append(out, q.param...)
			}
			in.consume(n)
		}
		if len(out) > 0 {
			if _, werr := c.Write(out); werr != nil {
				return
			}
			out = out[:0]
		}
		if err != nil {
			return
		}
	}
}
