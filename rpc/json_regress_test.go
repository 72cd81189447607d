package rpc

import (
	"strings"
	"testing"
)

// A JSON body is one JSON value: bytes after it that are not JSON
// (a stray bracket, a comma, a word) make it invalid, as much as a second
// value does. The decoder's Token reports them as an error, which read as
// "nothing more" let "[1] x" through as the params [1].
func TestHTTPBridgeJSONTrailingGarbage(t *testing.T) {
	reg := bridgeRegistry()
	for _, body := range []string{`[1] x`, `[1]]`, `[1],`, `[1]}`, `["a"] "`, "[1]\x00"} {
		status, _, got := serve(t, reg, "POST", "/rpc/echo", "application/json", []byte(body))
		if status != 400 || !strings.Contains(string(got), `"code":2`) {
			t.Errorf("%q: %d %s, want 400 with code 2", body, status, got)
		}
	}
	for _, body := range []string{"[1]", "[1] ", " [1]\r\n\t"} {
		if status, _, got := serve(t, reg, "POST", "/rpc/echo", "application/json", []byte(body)); status != 200 || string(got) != "1" {
			t.Errorf("%q: %d %s, want 200 1", body, status, got)
		}
	}
}
