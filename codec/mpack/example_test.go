package mpack_test

import (
	"fmt"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// A MessagePack-RPC request arrives in two pieces: the walker says when the
// frame is whole, the readers take it apart in place, and the writers
// append the response.
func Example() {
	req := mpack.AppendArrayHeader(nil, 4)
	req = mpack.AppendUint(req, 0) // request
	req = mpack.AppendUint(req, 7) // msgid
	req = mpack.AppendStr(req, "echo")
	req = mpack.AppendArrayHeader(req, 1)
	req = mpack.AppendStr(req, "hello")

	var w mpack.Walker // one per connection
	for _, in := range [][]byte{req[:9], req} {
		n, err := w.Walk(in)
		if err == codec.ErrIncomplete {
			fmt.Printf("%d bytes: incomplete, need %d\n", len(in), w.Need())
			continue
		}
		if err != nil {
			fmt.Println(err) // an *mpack.Error: answer it and close
			return
		}
		frame := in[:n]
		_, b, _ := mpack.ReadArrayHeader(frame)
		_, b, _ = mpack.ReadUint(b)
		msgid, b, _ := mpack.ReadUint(b)
		method, b, _ := mpack.ReadStr(b)
		_, b, _ = mpack.ReadArrayHeader(b)
		arg, _, _ := mpack.ReadStrOrBin(b)
		fmt.Printf("%d bytes: call %s(%q), msgid %d\n", len(in), method, arg, msgid)

		out := mpack.AppendArrayHeader(nil, 4)
		out = mpack.AppendUint(out, 1) // response
		out = mpack.AppendUint(out, msgid)
		out = mpack.AppendNil(out) // no error
		out = mpack.AppendStrBytes(out, arg)
		fmt.Printf("response % x\n", out)
	}

	_, err := mpack.Walk([]byte("\x93\x01\x00\xdd\xff\xff\xff\xff"), mpack.Limits{})
	fmt.Println(err)
	// Output:
	// 9 bytes: incomplete, need 10
	// 15 bytes: call echo("hello"), msgid 7
	// response 94 01 07 c0 a5 68 65 6c 6c 6f
	// mpack: array of 4294967295 elements cannot fit in a frame of 1048576 bytes at offset 3 near dd ff ff ff ff
}
