package wire

import (
	"bytes"
	"io"
	"testing"
)

func FuzzVarint(f *testing.F) {
	for _, s := range [][]byte{{0}, {0x80, 0x80}, {0xc0, 0, 0x40}, {0xf0, 0xff, 0xff, 0xff, 0xff}, {0xfc, 1, 2, 3, 4, 5}, {0xff}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		v, err := r.ReadVarint()
		if err != nil {
			return
		}
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteVarint(v)
		w.Flush()
		if got, err := NewReader(&b).ReadVarint(); err != nil || got != v {
			t.Fatalf("re-encode %d = %d, %v", v, got, err)
		}
	})
}

func FuzzVarlong(f *testing.F) {
	for _, s := range [][]byte{{0, 0, 0}, {0x80, 1, 2, 3}, {0xfe, 1, 2, 3, 4, 5, 6, 7, 8}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, min uint8) {
		mb := int(min%8) + 1
		v, err := NewReader(bytes.NewReader(data)).ReadVarlong(mb)
		if err != nil || v < 0 {
			return
		}
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteVarlong(v, mb)
		w.Flush()
		if got, err := NewReader(&b).ReadVarlong(mb); err != nil || got != v {
			t.Fatalf("re-encode %d = %d, %v", v, got, err)
		}
	})
}

func FuzzNdx(f *testing.F) {
	f.Add([]byte{1, 1, 0xfe, 0x80, 1, 2, 3, 0xff, 0xfe, 0, 5, 0})
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		c := NewNdxCodec(31)
		for range 64 {
			if _, err := c.Read(r); err != nil {
				return
			}
		}
	})
}

func FuzzMux(f *testing.F) {
	f.Add([]byte{3, 0, 0, 7, 'a', 'b', 'c', 1, 0, 0, 9, 'x'})
	f.Add([]byte{0, 0, 0, 0x6b})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7})
	f.Fuzz(func(t *testing.T, data []byte) {
		mr := NewMuxReader(bytes.NewReader(data), func(MsgCode, []byte) error { return nil })
		io.Copy(io.Discard, mr)
	})
}
