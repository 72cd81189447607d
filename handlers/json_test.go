package handlers

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// bytesAsRunes is the string that appendJSONString's output decodes to:
// valid UTF-8 as is, each other byte as the character of the same value.
func bytesAsRunes(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			r = rune(b[0])
		}
		sb.WriteRune(r)
		b = b[size:]
	}
	return sb.String()
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"ascii", "Hello, World!", `"Hello, World!"`},
		{"quote", `a"b`, `"a\"b"`},
		{"backslash", `a\b`, `"a\\b"`},
		{"slash kept", "a/b", `"a/b"`},
		{"html kept", "<a&b>", `"<a&b>"`},
		{"short escapes", "\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"NUL", "\x00", `"\u0000"`},
		{"US", "\x1f", `"\u001f"`},
		{"DEL", "\x7f", `"\u007f"`},
		{"valid two bytes", "é", `"é"`},
		{"valid four bytes", "😀", `"😀"`},
		{"replacement char kept", "\ufffd", "\"\ufffd\""},
		{"line separator", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"lone high byte", "caf\xe9", `"caf\u00e9"`},
		{"0x80 and 0xff", "\x80\xff", `"\u0080\u00ff"`},
		{"truncated sequence", "\xe2\x9c", `"\u00e2\u009c"`},
		{"truncated then ascii", "\xe2\x9cx", `"\u00e2\u009cx"`},
		{"surrogate half", "\xed\xa0\x80", `"\u00ed\u00a0\u0080"`},
		{"overlong", "\xc0\xaf", `"\u00c0\u00af"`},
		{"mixed", "a\xffé\"", `"a\u00ffé\""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendJSONString([]byte("pre"), []byte(tt.in)))
			if got != "pre"+tt.want {
				t.Errorf("got %q, want %q", got, "pre"+tt.want)
			}
		})
	}
}

// TestAppendJSONStringRandom checks random byte strings against
// encoding/json's decoder.
func TestAppendJSONStringRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\x00", "\x1f", "\x7f", "\x80", "\xff", "é", "✓", "😀", "\u2028", "\xe2", "\xf0\x9f", "\n"}
	for i := 0; i < 10000; i++ {
		var sb strings.Builder
		for n := rng.IntN(20); n > 0; n-- {
			if rng.IntN(2) == 0 {
				sb.WriteByte(byte(rng.IntN(256)))
			} else {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
		}
		checkJSONString(t, []byte(sb.String()))
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff\xfe", "é\u2028", "\x00\x1f\x7f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkJSONString(t, b) })
}

func checkJSONString(t *testing.T, b []byte) {
	t.Helper()
	enc := appendJSONString(nil, b)
	var got string
	if err := json.Unmarshal(enc, &got); err != nil {
		t.Fatalf("%q encoded as %q: %v", b, enc, err)
	}
	if want := bytesAsRunes(b); got != want {
		t.Fatalf("%q encoded as %q decodes to %q, want %q", b, enc, got, want)
	}
	for _, c := range enc {
		if c < 0x20 || c == 0x7f {
			t.Fatalf("%q encoded as %q holds control byte %#x", b, enc, c)
		}
	}
	if !utf8.Valid(enc) {
		t.Fatalf("%q encoded as invalid UTF-8 %q", b, enc)
	}
}
