package msgpackrpc_test

import (
	"fmt"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
)

// A client's request and notification, and the server's answers, as they
// go over the wire.
func ExampleAppendRequest() {
	params := mpack.AppendStr(mpack.AppendArrayHeader(nil, 1), "hi")
	fmt.Printf("% x\n", msgpackrpc.AppendRequest(nil, 1, "echo", params))
	fmt.Printf("% x\n", msgpackrpc.AppendNotification(nil, "echo", params))
	fmt.Printf("% x\n", msgpackrpc.AppendResult(nil, 1, mpack.AppendStr(nil, "hi")))
	fmt.Printf("% x\n", msgpackrpc.AppendError(nil, 2, "busy"))
	// Output:
	// 94 00 01 a4 65 63 68 6f 91 a2 68 69
	// 93 02 a4 65 63 68 6f 91 a2 68 69
	// 94 01 01 c0 a2 68 69
	// 94 01 02 a4 62 75 73 79 c0
}
