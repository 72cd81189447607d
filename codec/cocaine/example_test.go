package cocaine_test

import (
	"fmt"

	"github.com/tokamak-io/tokamak/codec/cocaine"
)

// A client's side of an echo exchange on channel 2, as the frames go on
// the wire: invoke, one chunk, choke. The server answers the chunk and a
// choke in the same shapes.
func ExampleVersion_AppendInvoke() {
	var b []byte
	b = cocaine.V12.AppendInvoke(b, 2, "echo")
	fmt.Printf("% x\n", b)
	b = cocaine.V12.AppendChunk(b[:0], 2, []byte("hi"))
	fmt.Printf("% x\n", b)
	b = cocaine.V12.AppendChoke(b[:0], 2)
	fmt.Printf("% x\n", b)
	b = cocaine.V11.AppendChunk(b[:0], 2, []byte("hi"))
	fmt.Printf("% x\n", b)
	// Output:
	// 94 02 00 91 a4 65 63 68 6f 90
	// 94 02 00 91 a2 68 69 90
	// 94 02 02 90 90
	// 93 04 02 91 a2 68 69
}

// Parse takes a walked frame apart.
func ExampleVersion_Parse() {
	frame := []byte{0x94, 0x02, 0x01, 0x92, 0x92, 0x2a, 0x01, 0xa1, 'x', 0x90}
	var m cocaine.Message
	if err := cocaine.V12.Parse(frame, &m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("channel %d type %d, %d args: % x, headers % x\n", m.Channel, m.Type, m.NArgs, m.Args, m.Headers)
	// Output:
	// channel 2 type 1, 2 args: 92 2a 01 a1 78, headers 90
}
