package transport

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

func TestPipeBothWriteFirst(t *testing.T) {
	a, b := NewPipe(16), NewPipe(16)
	done := make(chan []byte)
	go func() {
		a.Write([]byte("ping"))
		buf := make([]byte, 4)
		io.ReadFull(b, buf)
		done <- buf
	}()
	b.Write([]byte("pong"))
	buf := make([]byte, 4)
	io.ReadFull(a, buf)
	if string(buf) != "ping" || string(<-done) != "pong" {
		t.Fatal("exchange failed")
	}
}

func TestPipeStreamsLargeData(t *testing.T) {
	p := NewPipe(1000)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	go func() {
		for off := 0; off < len(data); {
			n := min(len(data)-off, 1+int(rand.Uint32()%5000))
			p.Write(data[off : off+n])
			off += n
		}
		p.CloseWrite(nil)
	}()
	got, err := io.ReadAll(p)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
}

func TestPipeCloseRead(t *testing.T) {
	p := NewPipe(4)
	p.CloseRead()
	if _, err := p.Write([]byte("12345")); err != io.ErrClosedPipe {
		t.Fatalf("write after CloseRead: %v", err)
	}
}
