package http1

import (
	"sync"
	"sync/atomic"
	"time"
)

// dateLayout is the IMF-fixdate of RFC 9110 §5.6.7, always 29 bytes.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

var (
	date      atomic.Pointer[[len(dateLayout)]byte]
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
	d := new([len(dateLayout)]byte)
	t.UTC().AppendFormat(d[:0], dateLayout)
	date.Store(d)
}

// AppendDate appends the current date in the form of the Date header
// ("Sun, 06 Nov 1994 08:49:37 GMT"). The value is cached and refreshed
// once a second, at the start of the second.
func AppendDate(dst []byte) []byte {
	d := date.Load()
	if d == nil {
		startClock()
		d = date.Load()
	}
	return append(dst, d[:]...)
}
