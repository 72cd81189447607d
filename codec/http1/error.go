package http1

import (
	"fmt"

	"github.com/tokamak-io/tokamak/codec"
)

// Error is a request the codec refuses. Status is the HTTP status to answer
// with (400, 413, 414, 417, 431, 501 or 505); the embedded
// [codec.SyntaxError] says what is wrong and where, counted from the start
// of the buffer given to the parser ([Parser.ParseHead] or
// [Parser.ParseChunked]).
//
// Every refusal ends the connection: after an Error the framing of the
// bytes that follow is unknown.
type Error struct {
	Status int
	codec.SyntaxError
}

func (e *Error) Error() string {
	return fmt.Sprintf("http1: %d %s: %s at offset %d near %q",
		e.Status, StatusText(e.Status), e.Msg, e.Offset, e.Near)
}

// Unwrap returns the embedded [codec.SyntaxError], so that errors.As finds
// it.
func (e *Error) Unwrap() error { return &e.SyntaxError }

// fail returns an *Error with a short quote of buf around off.
func fail(status int, msg string, buf []byte, off int) error {
	return &Error{Status: status, SyntaxError: codec.SyntaxError{
		Offset: off, Msg: msg, Near: codec.Quote(buf, off),
	}}
}

// The messages of the errors, also the bodies of the answers (after the
// status). Tests compare against them.
const (
	msgBareLF         = "bare LF as line end"
	msgBareCR         = "bare CR"
	msgEmptyLines     = "more than one empty line before the request line"
	msgRequestLine    = "malformed request line"
	msgMethodLong     = "method longer than 32 bytes"
	msgTargetChar     = "invalid character in request target"
	msgTargetEmpty    = "empty request target"
	msgVersion        = "malformed HTTP version"
	msgVersionSupport = "HTTP version not supported"
	msgLineLong       = "request line too long"
	msgConnect        = "CONNECT is not supported"
	msgAsterisk       = "asterisk-form target is only for OPTIONS"
	msgTargetForm     = "malformed request target"
	msgAuthority      = "invalid authority in request target"
	msgObsFold        = "obsolete line folding"
	msgNameEmpty      = "empty field name"
	msgNameChar       = "invalid character in field name"
	msgNameSpace      = "whitespace before colon"
	msgNoColon        = "field line without a colon"
	msgValueChar      = "invalid character in field value"
	msgHeaderLarge    = "header section too large"
	msgHeaderMany     = "too many header fields"
	msgHostMissing    = "missing Host header"
	msgHostDup        = "more than one Host header"
	msgHostBad        = "invalid Host header"
	msgCLBad          = "invalid Content-Length"
	msgCLDup          = "more than one Content-Length"
	msgCLTE           = "both Transfer-Encoding and Content-Length"
	msgFramingName    = "framing field name spelled with '_'"
	msgTE10           = "Transfer-Encoding in HTTP/1.0"
	msgTEBad          = "malformed Transfer-Encoding"
	msgTENotFinal     = "chunked is not the final transfer coding"
	msgTECoding       = "transfer coding not implemented"
	msgBodyLarge      = "body too large"
	msgExpect         = "unsupported expectation"
	msgChunkSize      = "invalid chunk size"
	msgChunkSizeLong  = "chunk size longer than 16 hex digits"
	msgChunkExt       = "malformed chunk extension"
	msgChunkExtLong   = "chunk extensions too long"
	msgChunkCRLF      = "chunk data not followed by CRLF"
	msgTrailerLarge   = "trailer section too large"
	msgTrailerMany    = "too many trailer fields"
	msgTimeout        = "timed out"
	msgOverload       = "the server holds too much partial input; try again later"
	msgPanic          = "handler panic"
	msgInvalidStatus  = "handler sent an invalid status"
)
