package fastio

import (
	"bytes"
	"io"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestAdvance(t *testing.T) {
	a, b, c := []byte("abc"), []byte("de"), []byte("fghij")
	mk := func() []unix.Iovec {
		var iov []unix.Iovec
		for _, p := range [][]byte{a, b, c} {
			iv := unix.Iovec{Base: &p[0]}
			iv.SetLen(len(p))
			iov = append(iov, iv)
		}
		return iov
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "abcdefghij"}, {1, "bcdefghij"}, {3, "defghij"}, {4, "efghij"},
		{5, "fghij"}, {9, "j"}, {10, ""},
	} {
		var got []byte
		for _, iv := range advance(mk(), tc.n) {
			got = append(got, unsafeBytes(iv)...)
		}
		if string(got) != tc.want {
			t.Errorf("advance %d = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func unsafeBytes(iv unix.Iovec) []byte {
	return unsafe.Slice(iv.Base, int(iv.Len))
}

// TestVecWriterPipe writes more buffers than one writev takes, with empty
// ones among them and more bytes than the pipe holds, through a
// non-blocking pipe, and checks what the reader gets.
func TestVecWriterPipe(t *testing.T) {
	fio := Defaults().With(Writev, true) // the vectored path, whatever GORSYNC_FASTIO says
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- b
	}()
	v := fio.NewVecWriter(pw)
	if v == nil {
		t.Fatal("no VecWriter for a pipe")
	}
	var bufs [][]byte
	var want []byte
	for i := range 3000 {
		b := bytes.Repeat([]byte{byte(i)}, i%300)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	n, err := v.WriteBuffers(bufs)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("WriteBuffers = %d, %v; want %d", n, err, len(want))
	}
	if _, err := v.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if b := <-got; !bytes.Equal(b, append(want, "tail"...)) {
		t.Fatalf("read %d bytes, want %d", len(b), len(want)+4)
	}
}

// TestVecWriterClosedReader checks that a write to a pipe nobody reads
// fails with an error instead of hanging or killing the process.
func TestVecWriterClosedReader(t *testing.T) {
	fio := Defaults().With(Writev, true) // the vectored path, whatever GORSYNC_FASTIO says
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	pr.Close()
	if _, err := fio.NewVecWriter(pw).WriteBuffers([][]byte{[]byte("x")}); err == nil {
		t.Fatal("write to a closed pipe succeeded")
	}
}

func TestNewVecWriterNeedsDescriptor(t *testing.T) {
	if Defaults().With(Writev, true).NewVecWriter(&bytes.Buffer{}) != nil {
		t.Fatal("a VecWriter for a bytes.Buffer")
	}
}
