// Package wire encodes and decodes rsync's wire primitives: fixed-width and
// variable-length integers, length-prefixed strings, file-list indexes, and
// the multiplexed message frames that carry them.
package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gorsync/gorsync/internal/exitcode"
)

// ErrProtocol marks a malformed or truncated peer stream: rsync's "protocol
// data stream" error, exit code 12. Decoders wrap it with context.
var ErrProtocol = exitcode.Sentinel(exitcode.StreamIO, "protocol data stream error")

// ErrIncompatible marks a well-formed stream that breaks the protocol's
// rules — a bad version, sum head or file index: rsync's "protocol
// incompatibility", exit code 2 (RERR_PROTOCOL).
var ErrIncompatible = exitcode.Sentinel(exitcode.Protocol, "protocol incompatibility")

// MaxVstring is the longest string write_vstring can encode.
const MaxVstring = 0x7fff

// intByteExtra gives, for a varint's first byte divided by 4, how many extra
// bytes follow it. rsync: io.c int_byte_extra.
var intByteExtra = [64]byte{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6,
}

// Reader decodes rsync's wire primitives from a buffered byte stream. A short
// stream yields an error wrapping both io.ErrUnexpectedEOF and ErrProtocol.
type Reader struct {
	br  *bufio.Reader
	src *countReader // nil when br came ready-made
	buf [16]byte
}

// countReader counts what the buffer takes from the stream.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader returns a Reader that buffers r in 256 KiB.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, 256<<10) }

// NewReaderSize returns a Reader that buffers r in size bytes (an r that
// is already a bufio.Reader of at least 64 KiB is used as it is).
func NewReaderSize(r io.Reader, size int) *Reader {
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= 64<<10 {
		return &Reader{br: br}
	}
	src := &countReader{r: r}
	return &Reader{br: bufio.NewReaderSize(src, size), src: src}
}

// Consumed is the count of bytes read so far (rsync's total_data_read,
// which --out-format's %b and %c take their figures from).
func (r *Reader) Consumed() int64 {
	if r.src == nil {
		return 0
	}
	return r.src.n - int64(r.br.Buffered())
}

// Buffered reports how many bytes can be read without touching the stream.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Peek returns the bytes that can be read without touching the stream,
// without consuming them; they are valid until the next read.
func (r *Reader) Peek() []byte {
	b, _ := r.br.Peek(r.br.Buffered())
	return b
}

func short(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %w", ErrProtocol, io.ErrUnexpectedEOF)
	}
	return err
}

// Read implements io.Reader over the buffered stream.
func (r *Reader) Read(p []byte) (int, error) { return r.br.Read(p) }

// ReadByte reads one byte.
func (r *Reader) ReadByte() (byte, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, short(err)
	}
	return b, nil
}

// ReadFull fills p entirely.
func (r *Reader) ReadFull(p []byte) error {
	if _, err := io.ReadFull(r.br, p); err != nil {
		return short(err)
	}
	return nil
}

// Discard skips n bytes.
func (r *Reader) Discard(n int) error {
	if _, err := r.br.Discard(n); err != nil {
		return short(err)
	}
	return nil
}

// ReadShortint reads a 2-byte little-endian integer. rsync: io.c read_shortint.
func (r *Reader) ReadShortint() (uint16, error) {
	if err := r.ReadFull(r.buf[:2]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(r.buf[:2]), nil
}

// ReadInt reads a 4-byte little-endian integer. rsync: io.c read_int.
func (r *Reader) ReadInt() (int32, error) {
	if err := r.ReadFull(r.buf[:4]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(r.buf[:4])), nil
}

// ReadLongint reads rsync's pre-30 64-bit encoding: an int32, or -1 followed by
// an int64. rsync: io.c read_longint.
func (r *Reader) ReadLongint() (int64, error) {
	v, err := r.ReadInt()
	if err != nil || v != -1 {
		return int64(v), err
	}
	if err := r.ReadFull(r.buf[:8]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(r.buf[:8])), nil
}

// ReadVarint reads rsync's variable-length int32. rsync: io.c read_varint.
func (r *Reader) ReadVarint() (int32, error) {
	ch, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	extra := int(intByteExtra[ch/4])
	if extra == 0 {
		return int32(ch), nil
	}
	if extra > 4 {
		return 0, fmt.Errorf("overflow in varint: %w", ErrProtocol)
	}
	b := r.buf[:5]
	clear(b)
	if err := r.ReadFull(b[:extra]); err != nil {
		return 0, err
	}
	bit := byte(1) << (8 - extra)
	b[extra] = ch & (bit - 1)
	if extra == 4 && b[4] != 0 {
		return 0, fmt.Errorf("overflow in varint: %w", ErrProtocol)
	}
	return int32(binary.LittleEndian.Uint32(b[:4])), nil
}

// ReadVarlong reads rsync's variable-length int64 whose first minBytes bytes
// are always present. rsync: io.c read_varlong.
func (r *Reader) ReadVarlong(minBytes int) (int64, error) {
	if minBytes < 1 || minBytes > 8 {
		return 0, fmt.Errorf("varlong min bytes %d", minBytes)
	}
	// Read through r.buf, which lives in the Reader: a local array handed
	// to io.ReadFull would escape and cost an allocation per integer.
	b := r.buf[:minBytes]
	if err := r.ReadFull(b); err != nil {
		return 0, err
	}
	first := b[0]
	var u [9]byte
	copy(u[:], b[1:minBytes])
	extra := int(intByteExtra[first/4])
	if extra == 0 {
		u[minBytes-1] = first
	} else {
		if minBytes+extra > 9 {
			return 0, fmt.Errorf("overflow in varlong: %w", ErrProtocol)
		}
		x := r.buf[:extra]
		if err := r.ReadFull(x); err != nil {
			return 0, err
		}
		copy(u[minBytes-1:], x)
		bit := byte(1) << (8 - extra)
		u[minBytes+extra-1] = first & (bit - 1)
		if u[8] != 0 {
			return 0, fmt.Errorf("overflow in varlong: %w", ErrProtocol)
		}
	}
	return int64(binary.LittleEndian.Uint64(u[:8])), nil
}

// ReadVstring reads a string with a one- or two-byte length prefix, refusing
// one longer than max. rsync: io.c read_vstring.
func (r *Reader) ReadVstring(max int) (string, error) {
	n, err := r.ReadByte()
	if err != nil {
		return "", err
	}
	l := int(n)
	if l&0x80 != 0 {
		lo, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		l = (l&^0x80)<<8 | int(lo)
	}
	if l > max {
		return "", fmt.Errorf("string of %d bytes exceeds %d: %w", l, max, ErrProtocol)
	}
	p := make([]byte, l)
	if err := r.ReadFull(p); err != nil {
		return "", err
	}
	return string(p), nil
}

// Writer encodes rsync's wire primitives into a buffer. The first write error
// sticks; Flush and Err report it.
type Writer struct {
	w    io.Writer
	buf  []byte
	out  int64 // bytes handed to w
	err  error
	pair [2][]byte // buffered bytes and a large write, gathered for a MuxWriter
}

// NewWriter returns a Writer that buffers writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, 64<<10)}
}

func (w *Writer) reserve(n int) []byte {
	if len(w.buf)+n > cap(w.buf) {
		w.Flush()
	}
	if n > cap(w.buf) {
		w.buf = make([]byte, 0, n)
	}
	l := len(w.buf)
	w.buf = w.buf[:l+n]
	return w.buf[l : l+n]
}

// Write buffers p, writing through directly when p is large.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) >= cap(w.buf)/2 {
		if m, ok := w.w.(*MuxWriter); ok && len(w.buf) > 0 {
			// The buffered bytes and p leave together, as the same two
			// MSG_DATA frames, in one vectored write.
			w.pair = [2][]byte{w.buf, p}
			n, err := m.WriteBuffers(w.pair[:])
			w.out += max(n, 0)
			n -= int64(len(w.buf))
			w.pair, w.buf = [2][]byte{}, w.buf[:0]
			if err != nil {
				w.err = err
				return int(max(n, 0)), err
			}
			return len(p), nil
		}
		if w.Flush() != nil {
			return 0, w.err
		}
		n, err := w.w.Write(p)
		w.out += int64(n)
		if err != nil {
			w.err = err
		}
		return n, err
	}
	copy(w.reserve(len(p)), p)
	return len(p), nil
}

// WriteByte buffers one byte.
func (w *Writer) WriteByte(b byte) error {
	w.reserve(1)[0] = b
	return w.err
}

// WriteShortint writes a 2-byte little-endian integer.
func (w *Writer) WriteShortint(v uint16) {
	binary.LittleEndian.PutUint16(w.reserve(2), v)
}

// WriteInt writes a 4-byte little-endian integer. rsync: io.c write_int.
func (w *Writer) WriteInt(v int32) {
	binary.LittleEndian.PutUint32(w.reserve(4), uint32(v))
}

// WriteLongint writes rsync's pre-30 64-bit encoding. rsync: io.c write_longint.
func (w *Writer) WriteLongint(v int64) {
	if v >= 0 && v <= 0x7fffffff {
		w.WriteInt(int32(v))
		return
	}
	b := w.reserve(12)
	binary.LittleEndian.PutUint32(b, 0xffffffff)
	binary.LittleEndian.PutUint64(b[4:], uint64(v))
}

// WriteVarint writes rsync's variable-length int32. rsync: io.c write_varint.
func (w *Writer) WriteVarint(v int32) {
	var b [5]byte
	binary.LittleEndian.PutUint32(b[1:], uint32(v))
	cnt := 4
	for cnt > 1 && b[cnt] == 0 {
		cnt--
	}
	bit := byte(1) << (7 - cnt + 1)
	switch {
	case b[cnt] >= bit:
		cnt++
		b[0] = ^(bit - 1)
	case cnt > 1:
		b[0] = b[cnt] | ^(bit*2 - 1)
	default:
		b[0] = b[1]
	}
	copy(w.reserve(cnt), b[:cnt])
}

// WriteVarlong writes rsync's variable-length int64 with at least minBytes
// bytes. rsync: io.c write_varlong.
func (w *Writer) WriteVarlong(v int64, minBytes int) {
	var b [9]byte
	binary.LittleEndian.PutUint64(b[1:], uint64(v))
	cnt := 8
	for cnt > minBytes && b[cnt] == 0 {
		cnt--
	}
	bit := byte(1) << (7 - cnt + minBytes)
	switch {
	case b[cnt] >= bit:
		cnt++
		b[0] = ^(bit - 1)
	case cnt > minBytes:
		b[0] = b[cnt] | ^(bit*2 - 1)
	default:
		b[0] = b[cnt]
	}
	copy(w.reserve(cnt), b[:cnt])
}

// WriteVstring writes s with a one- or two-byte length prefix; strings longer
// than MaxVstring set the sticky error. rsync: io.c write_vstring.
func (w *Writer) WriteVstring(s string) {
	if len(s) > MaxVstring {
		if w.err == nil {
			w.err = fmt.Errorf("over-long vstring (%d > %d)", len(s), MaxVstring)
		}
		return
	}
	if len(s) > 0x7f {
		w.WriteByte(byte(len(s)/0x100 + 0x80))
	}
	w.WriteByte(byte(len(s)))
	w.Write([]byte(s))
}

// Buffered reports how many bytes wait in the buffer.
func (w *Writer) Buffered() int { return len(w.buf) }

// Written is the count of bytes written so far, buffered ones included
// (rsync's total_data_written, for --out-format's %b and %c).
func (w *Writer) Written() int64 { return w.out + int64(len(w.buf)) }

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		w.buf = w.buf[:0]
		return w.err
	}
	if len(w.buf) > 0 {
		n, err := w.w.Write(w.buf)
		w.out += int64(n)
		w.buf = w.buf[:0]
		if err != nil {
			w.err = err
			return err
		}
	}
	if f, ok := w.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			w.err = err
		}
	}
	return w.err
}

// Err returns the sticky write error, if any.
func (w *Writer) Err() error { return w.err }
