package http1

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/handlers"
)

// checkDate fails unless s is an IMF-fixdate within two seconds of now.
func checkDate(t *testing.T, s string) {
	t.Helper()
	d, err := time.Parse(http.TimeFormat, s)
	if err != nil {
		t.Fatalf("got Date %q: %v", s, err)
	}
	if len(s) != 29 || s[26:] != "GMT" {
		t.Errorf("got Date %q, want 29 bytes ending in GMT", s)
	}
	if diff := time.Since(d); diff < -time.Second || diff > 2*time.Second {
		t.Errorf("got Date %q, %v from now", s, diff)
	}
}

// TestDate (rule 10): the cached Date is an IMF-fixdate of now and follows
// the clock, in the Date header of every status.
func TestDate(t *testing.T) {
	first := string(AppendDate(nil))
	checkDate(t, first)
	deadline := time.Now().Add(3 * time.Second)
	for string(AppendDate(nil)) == first {
		if time.Now().After(deadline) {
			t.Fatalf("Date %q not refreshed in 3s", first)
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkDate(t, string(AppendDate(nil)))
	// A 200's first bytes are kept with the date: they follow it too.
	for _, code := range []int{200, 404} {
		if got, want := string(appendStart(nil, code)), statusLines[code]+string(AppendDate(nil))+"\r\n"; got != want {
			t.Errorf("%d: got %q, want %q", code, got, want)
		}
	}
}

func TestStatusText(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{200, "OK"}, {404, "Not Found"}, {413, "Content Too Large"}, {414, "URI Too Long"},
		{431, "Request Header Fields Too Large"}, {505, "HTTP Version Not Supported"},
		{299, "Success"}, {499, "Client Error"}, {599, "Server Error"}, {199, "Informational"},
		{99, ""}, {600, ""}, {-1, ""},
	}
	for _, tt := range tests {
		if got := StatusText(tt.code); got != tt.want {
			t.Errorf("%d: got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestAppendError(t *testing.T) {
	got := normalize(AppendError([]byte("x"), 431, "too many"))
	want := "x" + errResp(431, "too many")
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := normalize(AppendError(nil, 42, "m")), errResp(500, "m"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAppendResponse(t *testing.T) {
	var w handlers.Response
	w.SetStatus(201)
	w.Header("Location", "/x")
	w.Header("Content-Length", "99") // dropped by Response
	w.WriteString("made")
	tests := []struct {
		head bool
		conn uint8
		want string
	}{
		{false, connNone, "HTTP/1.1 201 Created\r\nServer: tokamak\r\nDate: X\r\nLocation: /x\r\nContent-Length: 4\r\n\r\nmade"},
		{true, connNone, "HTTP/1.1 201 Created\r\nServer: tokamak\r\nDate: X\r\nLocation: /x\r\nContent-Length: 4\r\n\r\n"},
		{false, connClose, "HTTP/1.1 201 Created\r\nServer: tokamak\r\nDate: X\r\nLocation: /x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nmade"},
		{false, connKeepAlive, "HTTP/1.1 201 Created\r\nServer: tokamak\r\nDate: X\r\nLocation: /x\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nmade"},
	}
	for _, tt := range tests {
		if got := normalize(appendResponse(nil, &w, tt.head, tt.conn)); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
