package rpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// appendMsgpackFromJSON appends the msgpack form of the one JSON value in
// data (see [HTTP] for the mapping).
func appendMsgpackFromJSON(dst, data []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return dst, err
	}
	// Only white space may follow the value: Token fails on bytes that
	// are not JSON (`[1] x`, `[1]]`) as it does at the end of the input,
	// so tell the end (io.EOF) from everything else.
	switch _, err := d.Token(); {
	case err == nil:
		return dst, errors.New("more than one JSON value")
	case err != io.EOF:
		return dst, errors.New("invalid data after the JSON value")
	}
	return appendJSONValue(dst, v)
}

func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return mpack.AppendNil(dst), nil
	case bool:
		return mpack.AppendBool(dst, v), nil
	case string:
		return mpack.AppendStr(dst, v), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return mpack.AppendInt(dst, i), nil
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return mpack.AppendUint(dst, u), nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return dst, fmt.Errorf("number %s out of range", v)
		}
		return mpack.AppendFloat64(dst, f), nil
	case []any:
		dst = mpack.AppendArrayHeader(dst, uint32(len(v)))
		for _, e := range v {
			var err error
			if dst, err = appendJSONValue(dst, e); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = mpack.AppendMapHeader(dst, uint32(len(v)))
		for _, k := range keys {
			dst = mpack.AppendStr(dst, k)
			var err error
			if dst, err = appendJSONValue(dst, v[k]); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	return dst, fmt.Errorf("unexpected JSON value %T", v)
}

// appendJSONFromMsgpack appends the JSON form of the one msgpack value at
// the start of b, which must have been walked (see [HTTP] for the mapping).
func appendJSONFromMsgpack(dst, b []byte) ([]byte, error) {
	dst, _, err := appendMsgpackValue(dst, b)
	return dst, err
}

var errNotFinite = errors.New("NaN or an infinity has no JSON form")

func appendMsgpackValue(dst, b []byte) ([]byte, []byte, error) {
	var err error
	switch mpack.NextType(b) {
	case mpack.NilType:
		b, err = mpack.ReadNil(b)
		return append(dst, "null"...), b, err
	case mpack.BoolType:
		var v bool
		v, b, err = mpack.ReadBool(b)
		return strconv.AppendBool(dst, v), b, err
	case mpack.IntType:
		var v int64
		v, b, err = mpack.ReadInt(b)
		return strconv.AppendInt(dst, v, 10), b, err
	case mpack.UintType:
		var v uint64
		v, b, err = mpack.ReadUint(b)
		return strconv.AppendUint(dst, v, 10), b, err
	case mpack.FloatType:
		var v float64
		v, b, err = mpack.ReadFloat64(b)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			err = errNotFinite
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64), b, err
	case mpack.StrType:
		var v []byte
		v, b, err = mpack.ReadStr(b)
		return handlers.AppendJSONString(dst, v), b, err
	case mpack.BinType:
		var v []byte
		v, b, err = mpack.ReadBin(b)
		return appendBase64(dst, v), b, err
	case mpack.ExtType:
		var typ int8
		var v []byte
		typ, v, b, err = mpack.ReadExt(b)
		dst = append(dst, `{"type":`...)
		dst = strconv.AppendInt(dst, int64(typ), 10)
		dst = append(dst, `,"data":`...)
		return append(appendBase64(dst, v), '}'), b, err
	case mpack.ArrayType:
		var n int
		if n, b, err = mpack.ReadArrayHeader(b); err != nil {
			return dst, b, err
		}
		dst = append(dst, '[')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, b, err = appendMsgpackValue(dst, b); err != nil {
				return dst, b, err
			}
		}
		return append(dst, ']'), b, nil
	case mpack.MapType:
		var n int
		if n, b, err = mpack.ReadMapHeader(b); err != nil {
			return dst, b, err
		}
		dst = append(dst, '{')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if mpack.NextType(b) == mpack.StrType {
				var k []byte
				if k, b, err = mpack.ReadStr(b); err != nil {
					return dst, b, err
				}
				dst = handlers.AppendJSONString(dst, k)
			} else {
				// A key of another kind: its JSON text, as a string.
				var key []byte
				if key, b, err = appendMsgpackValue(nil, b); err != nil {
					return dst, b, err
				}
				dst = handlers.AppendJSONString(dst, key)
			}
			dst = append(dst, ':')
			if dst, b, err = appendMsgpackValue(dst, b); err != nil {
				return dst, b, err
			}
		}
		return append(dst, '}'), b, nil
	}
	return dst, b, errors.New("malformed msgpack")
}

func appendBase64(dst, v []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, v)
	return append(dst, '"')
}
