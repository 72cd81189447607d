package main

import (
	"os"
	"testing"
)

func TestParseSockstat(t *testing.T) {
	in := "sockets: used 14\nTCP: inuse 4 orphan 2 tw 10 alloc 5 mem 55\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n"
	got, err := parseSockstat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := sockstat{InUse: 4, Orphan: 2, TW: 10, Alloc: 5, MemPages: 55}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"sockets: used 1\n", "TCP: inuse 4 orphan x tw 1 alloc 1 mem 1\n", "TCP: inuse 4 orphan\n", "TCP: inuse 4\n"} {
		if _, err := parseSockstat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := readSockstat(); err != nil {
		t.Errorf("this machine's /proc/net/sockstat: %v", err)
	}
}

func TestParseServerLog(t *testing.T) {
	log := `time=2026-12-07T23:02:00.000Z level=INFO msg=listening scheme=http addr=127.0.0.1:53941
time=2026-12-07T23:02:00.001Z level=INFO msg=listening scheme=cocaine addr=127.0.0.1:49735
time=2026-12-07T23:02:00.001Z level=INFO msg=listening scheme=msgpackrpc addr=127.0.0.1:39775
`
	addrs, ready := parseServerLog([]byte(log))
	if ready {
		t.Errorf("ready before the ready line")
	}
	if addrs["http"] != "127.0.0.1:53941" || addrs["cocaine"] != "127.0.0.1:49735" || addrs["msgpackrpc"] != "127.0.0.1:39775" {
		t.Errorf("got %v", addrs)
	}
	if _, ready := parseServerLog([]byte(log + "time=x level=INFO msg=ready loops=1 max_conns=19354\n")); !ready {
		t.Errorf("ready line not seen")
	}
}

func TestCountFDs(t *testing.T) {
	if n := countFDs(os.Getpid()); n < 3 {
		t.Errorf("got %d descriptors, want at least 3", n)
	}
	if n := countFDs(-1); n != -1 {
		t.Errorf("no such process: got %d, want -1", n)
	}
}

func TestParseSchedstat(t *testing.T) {
	run, wait, err := parseSchedstat([]byte("4866862 1062756 4\n"))
	if err != nil || run != 4866862 || wait != 1062756 {
		t.Errorf("got %d, %d, %v", run, wait, err)
	}
	if _, _, err := parseSchedstat([]byte("12\n")); err == nil {
		t.Errorf("one field: no error")
	}
	if run, wait := schedTimes("self"); run <= 0 || wait < 0 {
		t.Errorf("own schedstat: %d, %d", run, wait)
	}
}

func TestParsePressure(t *testing.T) {
	in := "some avg10=72.28 avg60=81.51 avg300=61.12 total=760084058\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	if got, err := parsePressure([]byte(in)); err != nil || got != 760084058 {
		t.Errorf("got %d, %v", got, err)
	}
	if _, err := parsePressure([]byte("full total=1\n")); err == nil {
		t.Errorf("no some line: no error")
	}
}
