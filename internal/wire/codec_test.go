package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"testing"
)

// Encodings checked by hand against rsync's io.c write_varint/write_varlong.
func TestVarintEncoding(t *testing.T) {
	tests := []struct {
		v    int32
		want string
	}{
		{0, "00"},
		{1, "01"},
		{0x7f, "7f"},
		{0x80, "8080"},
		{0x3fff, "bfff"},
		{0x4000, "c00040"},
		{0x1fffff, "dfffff1f"}, // 3 extra bytes? checked by round trip below
		{-1, "f0ffffffff"},
		{math.MaxInt32, "f0ffffff7f"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteVarint(tt.v)
		w.Flush()
		r := NewReader(&b)
		got, err := r.ReadVarint()
		if err != nil || got != tt.v {
			t.Errorf("varint %d round trip = %d, %v", tt.v, got, err)
		}
	}
	// Exact bytes for a few values.
	for _, tt := range []struct {
		v    int32
		want string
	}{{0, "00"}, {0x7f, "7f"}, {0x80, "8080"}, {0x3fff, "bfff"}, {0x4000, "c00040"}, {-1, "f0ffffffff"}} {
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteVarint(tt.v)
		w.Flush()
		if got := hex.EncodeToString(b.Bytes()); got != tt.want {
			t.Errorf("varint %d = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestVarlongRoundTrip(t *testing.T) {
	vals := []int64{0, 1, 0x7f, 0x80, 0xffff, 0x10000, 0xffffff, 1 << 24, 1<<31 - 1, 1 << 31, 1<<32 + 5, 1 << 40, 1<<62 + 12345, math.MaxInt64, 1234567890123}
	for _, min := range []int{3, 4} { // rsync uses minimum widths 3 and 4
		for _, v := range vals {
			var b bytes.Buffer
			w := NewWriter(&b)
			w.WriteVarlong(v, min)
			w.Flush()
			n := b.Len()
			got, err := NewReader(&b).ReadVarlong(min)
			if err != nil || got != v {
				t.Errorf("varlong(%d, min %d) = %d, %v (%d bytes)", v, min, got, err, n)
			}
			if n < min {
				t.Errorf("varlong(%d, min %d) used %d bytes", v, min, n)
			}
		}
	}
	// A 3-byte minimum value below 2^23 takes exactly 3 bytes, high byte first.
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteVarlong(0x12345, 3)
	w.Flush()
	if got := hex.EncodeToString(b.Bytes()); got != "014523" {
		t.Errorf("varlong 0x12345 min 3 = %s", got)
	}
}

func TestLongintAndVstring(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteLongint(5)
	w.WriteLongint(1 << 33)
	w.WriteLongint(-7)
	w.WriteVstring("abc")
	long := string(bytes.Repeat([]byte("x"), 300))
	w.WriteVstring(long)
	w.WriteShortint(0xbeef)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 4+12+12+4+302+2 {
		t.Fatalf("encoded %d bytes", b.Len())
	}
	r := NewReader(&b)
	for _, want := range []int64{5, 1 << 33, -7} {
		if got, err := r.ReadLongint(); err != nil || got != want {
			t.Errorf("longint = %d, %v; want %d", got, err, want)
		}
	}
	if s, err := r.ReadVstring(100); err != nil || s != "abc" {
		t.Errorf("vstring = %q, %v", s, err)
	}
	if _, err := r.ReadVstring(299); !errors.Is(err, ErrProtocol) {
		t.Errorf("over-long vstring: %v", err)
	}
}

func TestTruncatedIsProtocolError(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte{0xc0, 0x01}))
	if _, err := r.ReadVarint(); !errors.Is(err, ErrProtocol) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated varint: %v", err)
	}
}

func TestNdxRoundTrip(t *testing.T) {
	seq := []int32{0, 1, 2, 5, 300, 299, 70000, NdxDone, NdxFlistEOF, -101, -102, -500, 3, 0x7fffffff, NdxDone, 4}
	for _, proto := range []int{29, 30, 31, 32} {
		var b bytes.Buffer
		w := NewWriter(&b)
		enc := NewNdxCodec(proto)
		for _, n := range seq {
			enc.Write(w, n)
		}
		w.Flush()
		dec := NewNdxCodec(proto)
		r := NewReader(&b)
		for i, want := range seq {
			got, err := dec.Read(r)
			if err != nil || got != want {
				t.Fatalf("proto %d ndx[%d] = %d, %v; want %d", proto, i, got, err, want)
			}
		}
	}
	// rsync sends the first index 0 as the one-byte diff 1 from -1.
	var b bytes.Buffer
	w := NewWriter(&b)
	NewNdxCodec(30).Write(w, 0)
	w.Flush()
	if hex.EncodeToString(b.Bytes()) != "01" {
		t.Errorf("first ndx 0 = %x", b.Bytes())
	}
}

func TestMuxRoundTrip(t *testing.T) {
	var raw bytes.Buffer
	mw := NewMuxWriter(&raw)
	mw.Write([]byte("hello "))
	mw.WriteMsg(MsgInfo, []byte("note\n"))
	mw.Write([]byte("world"))
	mw.WriteMsg(MsgNoop, nil)
	var msgs []string
	mr := NewMuxReader(&raw, func(c MsgCode, p []byte) error {
		msgs = append(msgs, c.String()+":"+string(p))
		return nil
	})
	data, err := io.ReadAll(mr)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "hello world" {
		t.Errorf("data = %q", data)
	}
	if len(msgs) != 2 || msgs[0] != "MSG_INFO:note\n" || msgs[1] != "MSG_NOOP:" {
		t.Errorf("msgs = %q", msgs)
	}
	// Header layout: (MPLEX_BASE+code)<<24 | len, little-endian.
	raw.Reset()
	mw.WriteMsg(MsgError, []byte("x"))
	if hex.EncodeToString(raw.Bytes()) != "0100000a78" {
		t.Errorf("frame = %x", raw.Bytes())
	}
}

func TestMuxRejectsBadTag(t *testing.T) {
	mr := NewMuxReader(bytes.NewReader([]byte{1, 0, 0, 3}), nil)
	if _, err := mr.Read(make([]byte, 4)); !errors.Is(err, ErrProtocol) {
		t.Errorf("bad tag: %v", err)
	}
}

// TestReadVarlongAllocatesNothing guards the file-list decoder's hot path.
func TestReadVarlongAllocatesNothing(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for range 1000 {
		w.WriteVarlong(1<<40+12345, 3)
	}
	w.Flush()
	r := NewReader(bytes.NewReader(b.Bytes()))
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := r.ReadVarlong(3); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadVarlong allocates %.1f times per call", allocs)
	}
}
