package http1

import (
	"sync"
	"sync/atomic"
	"time"
)

// dateLayout is the IMF-fixdate of RFC 9110 §5.6.7, always 29 bytes.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// stamp is what changes once a second: the date, and the first bytes of
// a 200 response, which carry it (most responses are 200s: one copy
// instead of three).
type stamp struct {
	date     [len(dateLayout)]byte
	start200 string // statusLines[200], the date and its CRLF
}

var (
	date      atomic.Pointer[stamp]
	clockOnce sync.Once
)

// startClock stores the current date and starts the one goroutine of the
// package: it sleeps until the next second begins, stores the date again,
// and so on for the life of the process. Readers load the date with one
// atomic load and never allocate.
func startClock() {
	clockOnce.Do(func() {
		storeDate(time.Now())
		go func() {
			for {
				now := time.Now()
				time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
				storeDate(time.Now())
			}
		}()
	})
}

func storeDate(t time.Time) {
	st := new(stamp)
	t.UTC().AppendFormat(st.date[:0], dateLayout)
	st.start200 = statusLines[200] + string(st.date[:]) + "\r\n"
	date.Store(st)
}

// now returns the current stamp.
func now() *stamp {
	st := date.Load()
	if st == nil {
		startClock()
		st = date.Load()
	}
	return st
}

// AppendDate appends the current date in the form of the Date header
// ("Sun, 06 Nov 1994 08:49:37 GMT"). The value is cached and refreshed
// once a second, at the start of the second.
func AppendDate(dst []byte) []byte { return append(dst, now().date[:]...) }
