package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/gorsync/gorsync/internal/fastio"
)

// MsgCode is a multiplexed message's tag. rsync: rsync.h enum msgcode.
type MsgCode byte

// Message codes. rsync: rsync.h MSG_*.
const (
	MsgData       MsgCode = 0
	MsgErrorXfer  MsgCode = 1
	MsgInfo       MsgCode = 2
	MsgError      MsgCode = 3
	MsgWarning    MsgCode = 4
	MsgErrorSock  MsgCode = 5
	MsgLog        MsgCode = 6
	MsgClient     MsgCode = 7
	MsgErrorUTF8  MsgCode = 8
	MsgRedo       MsgCode = 9
	MsgStats      MsgCode = 10
	MsgIOError    MsgCode = 22
	MsgIOTimeout  MsgCode = 33
	MsgNoop       MsgCode = 42
	MsgErrorExit  MsgCode = 86
	MsgSuccess    MsgCode = 100
	MsgDeleted    MsgCode = 101
	MsgNoSend     MsgCode = 102
	mplexBase             = 7
	maxFrame              = 0xffffff
	maxMsgPayload         = 1 << 16
)

func (c MsgCode) String() string {
	switch c {
	case MsgData:
		return "MSG_DATA"
	case MsgErrorXfer:
		return "MSG_ERROR_XFER"
	case MsgInfo:
		return "MSG_INFO"
	case MsgError:
		return "MSG_ERROR"
	case MsgWarning:
		return "MSG_WARNING"
	case MsgErrorSock:
		return "MSG_ERROR_SOCKET"
	case MsgLog:
		return "MSG_LOG"
	case MsgClient:
		return "MSG_CLIENT"
	case MsgErrorUTF8:
		return "MSG_ERROR_UTF8"
	case MsgRedo:
		return "MSG_REDO"
	case MsgStats:
		return "MSG_STATS"
	case MsgIOError:
		return "MSG_IO_ERROR"
	case MsgIOTimeout:
		return "MSG_IO_TIMEOUT"
	case MsgNoop:
		return "MSG_NOOP"
	case MsgErrorExit:
		return "MSG_ERROR_EXIT"
	case MsgSuccess:
		return "MSG_SUCCESS"
	case MsgDeleted:
		return "MSG_DELETED"
	case MsgNoSend:
		return "MSG_NO_SEND"
	}
	return fmt.Sprintf("MSG_%d", byte(c))
}

// MuxWriter frames everything written to it as MSG_DATA and sends other
// messages between frames. It is safe for concurrent use, so several roles
// can share one connection. Every call has put its frames on the connection
// when it returns: nothing is held back for a later flush. rsync: io.c
// mplex_write.
//
// When the connection can write several buffers at once (a
// fastio.BuffersWriter, such as a fastio.VecWriter on a pipe or socket), a
// call's headers and payloads go out together in one vectored write, without
// copying (a call of at most 1 KiB is copied and written plainly, which is
// cheaper); otherwise each frame is copied into one buffer and written with
// one Write (two for a payload larger than that buffer).
type MuxWriter struct {
	mu    sync.Mutex
	w     io.Writer
	vw    fastio.BuffersWriter // w's vectored write, or nil
	frame []byte               // header and payload copied together (only small ones when vw is set)

	// One vectored write being assembled: the frames' headers (4 bytes
	// each) and payloads, then the pieces in wire order.
	hdrs []byte
	pays [][]byte
	bufs [][]byte

	// queued holds whole frames (QueueMsg) that go out ahead of whatever
	// is written next, or at Flush.
	queued []byte
}

// maxQueued is how many bytes of queued messages a MuxWriter holds before
// it writes them without waiting for the next write.
const maxQueued = 64 << 10

// smallFrames is the most a vectored MuxWriter copies into one buffer for
// a plain write instead of gathering (a short message with its header).
const smallFrames = 1 << 10

// frameBuf is the size of the buffer a MuxWriter without vectored writes
// copies a header and its payload into.
const frameBuf = 4 + 256<<10

// NewMuxWriter returns a MuxWriter sending frames to w, with one vectored
// write per call when w is a fastio.BuffersWriter.
func NewMuxWriter(w io.Writer) *MuxWriter {
	m := &MuxWriter{w: w}
	if vw, ok := w.(fastio.BuffersWriter); ok {
		m.vw = vw
		m.frame = make([]byte, 0, smallFrames)
	} else {
		m.frame = make([]byte, 0, frameBuf)
	}
	return m
}

// QueueMsg queues one message to go out ahead of the next write (data or
// message) or at Flush, without a write of its own: for messages nothing
// waits for, such as MSG_DELETED, which rsync's send_msg likewise leaves in
// its buffer. rsync: io.c send_msg
func (m *MuxWriter) QueueMsg(code MsgCode, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("%v of %d bytes is too long", code, len(payload))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued = binary.LittleEndian.AppendUint32(m.queued, header(code, len(payload)))
	m.queued = append(m.queued, payload...)
	if len(m.queued) >= maxQueued {
		return m.writeQueued()
	}
	return nil
}

// Flush writes the queued messages.
func (m *MuxWriter) Flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writeQueued()
}

// writeQueued writes the queued frames; the caller holds mu.
func (m *MuxWriter) writeQueued() error {
	if len(m.queued) == 0 {
		return nil
	}
	_, err := m.w.Write(m.queued)
	m.queued = m.queued[:0]
	return err
}

// Write sends p as one or more MSG_DATA frames.
func (m *MuxWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writeQueued(); err != nil {
		return 0, err
	}
	if m.vw != nil {
		m.addFrames(MsgData, p)
		return m.writeFrames()
	}
	n := 0
	for len(p) > 0 {
		c := min(len(p), maxFrame)
		if err := m.send(MsgData, p[:c]); err != nil {
			return n, err
		}
		n += c
		p = p[c:]
	}
	return n, nil
}

// WriteBuffers sends each of bufs as MSG_DATA frames, the same bytes as one
// Write per buffer, but with one vectored write when the connection has
// one: a short piece of buffered data and the large block after it leave
// in one system call instead of two. It returns the payload bytes sent.
func (m *MuxWriter) WriteBuffers(bufs [][]byte) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writeQueued(); err != nil {
		return 0, err
	}
	if m.vw == nil {
		var n int64
		for _, p := range bufs {
			for len(p) > 0 {
				c := min(len(p), maxFrame)
				if err := m.send(MsgData, p[:c]); err != nil {
					return n, err
				}
				n += int64(c)
				p = p[c:]
			}
		}
		return n, nil
	}
	for _, p := range bufs {
		if len(p) > 0 {
			m.addFrames(MsgData, p)
		}
	}
	n, err := m.writeFrames()
	return int64(n), err
}

// WriteMsg sends one message of the given code.
func (m *MuxWriter) WriteMsg(code MsgCode, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("%v of %d bytes is too long", code, len(payload))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writeQueued(); err != nil {
		return err
	}
	if m.vw != nil {
		m.addFrames(code, payload)
		_, err := m.writeFrames()
		return err
	}
	return m.send(code, payload)
}

// Keepalive sends an empty MSG_DATA frame, which every rsync reads as
// nothing, unless a write is under way (that write tells the peer as much).
// It reports whether it wrote. It may block as a write does, so a caller
// watching the clock calls it from a goroutine of its own.
// rsync: io.c maybe_send_keepalive
func (m *MuxWriter) Keepalive() (bool, error) {
	if !m.mu.TryLock() {
		return false, nil
	}
	defer m.mu.Unlock()
	if err := m.writeQueued(); err != nil {
		return false, err
	}
	if m.vw != nil {
		m.addFrames(MsgData, nil)
		_, err := m.writeFrames()
		return err == nil, err
	}
	err := m.send(MsgData, nil)
	return err == nil, err
}

func header(code MsgCode, n int) uint32 {
	return uint32(mplexBase+int(code))<<24 | uint32(n)
}

// send writes one frame through the copy buffer.
func (m *MuxWriter) send(code MsgCode, p []byte) error {
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], header(code, len(p)))
	if len(p) <= cap(m.frame)-4 {
		f := append(append(m.frame[:0], hdr[:]...), p...)
		_, err := m.w.Write(f)
		return err
	}
	if _, err := m.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := m.w.Write(p)
	return err
}

// addFrames queues p as frames of code, split where a frame is full (an
// empty p is one empty frame).
func (m *MuxWriter) addFrames(code MsgCode, p []byte) {
	for {
		c := min(len(p), maxFrame)
		m.hdrs = binary.LittleEndian.AppendUint32(m.hdrs, header(code, c))
		m.pays = append(m.pays, p[:c])
		p = p[c:]
		if len(p) == 0 {
			return
		}
	}
}

// writeFrames writes the queued frames with the connection's vectored
// write and returns how many payload bytes went out.
func (m *MuxWriter) writeFrames() (int, error) {
	size := len(m.hdrs)
	for _, p := range m.pays {
		size += len(p)
	}
	var n int64
	var err error
	if size <= cap(m.frame) {
		// Copying a few hundred bytes costs less than the kernel's
		// walk of an iovec array.
		f := m.frame[:0]
		for i, p := range m.pays {
			f = append(append(f, m.hdrs[4*i:4*i+4]...), p...)
		}
		var c int
		c, err = m.w.Write(f)
		n = int64(c)
	} else {
		for i, p := range m.pays {
			m.bufs = append(m.bufs, m.hdrs[4*i:4*i+4], p)
		}
		n, err = m.vw.WriteBuffers(m.bufs)
	}
	sent := 0
	for _, p := range m.pays {
		if n < 4 {
			break
		}
		c := int(min(n-4, int64(len(p))))
		sent += c
		n -= 4 + int64(c)
	}
	clear(m.pays) // hold no caller's buffer past the call
	clear(m.bufs)
	m.hdrs, m.pays, m.bufs = m.hdrs[:0], m.pays[:0], m.bufs[:0]
	return sent, err
}

// MsgHandler receives the non-data messages a MuxReader meets. The payload is
// only valid during the call. Returning an error stops reading.
type MsgHandler func(code MsgCode, payload []byte) error

// MuxReader yields the MSG_DATA payload of a multiplexed stream and hands
// every other message to its handler. rsync: io.c read_a_msg.
type MuxReader struct {
	r       io.Reader
	handle  MsgHandler
	remain  int // bytes of the current MSG_DATA frame not yet read
	hdr     [4]byte
	payload []byte
}

// NewMuxReader returns a MuxReader over r that passes messages to h.
func NewMuxReader(r io.Reader, h MsgHandler) *MuxReader {
	return &MuxReader{r: r, handle: h}
}

// SetHandler replaces the message handler.
func (m *MuxReader) SetHandler(h MsgHandler) { m.handle = h }

// Read returns data bytes, dispatching messages that come first.
func (m *MuxReader) Read(p []byte) (int, error) {
	for m.remain == 0 {
		if err := m.next(); err != nil {
			return 0, err
		}
	}
	if len(p) > m.remain {
		p = p[:m.remain]
	}
	n, err := m.r.Read(p)
	m.remain -= n
	if err == io.EOF && m.remain > 0 {
		err = io.ErrUnexpectedEOF
	}
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

func (m *MuxReader) next() error {
	if _, err := io.ReadFull(m.r, m.hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return short(err)
		}
		return err
	}
	v := binary.LittleEndian.Uint32(m.hdr[:])
	tag := int(v >> 24)
	n := int(v & maxFrame)
	if tag < mplexBase {
		return fmt.Errorf("unexpected tag %d: %w", tag-mplexBase, ErrProtocol)
	}
	code := MsgCode(tag - mplexBase)
	if code == MsgData {
		m.remain = n
		return nil
	}
	if n > maxMsgPayload {
		return fmt.Errorf("%v of %d bytes is too long: %w", code, n, ErrProtocol)
	}
	if cap(m.payload) < n {
		m.payload = make([]byte, n)
	}
	p := m.payload[:n]
	if _, err := io.ReadFull(m.r, p); err != nil {
		return short(err)
	}
	if m.handle == nil {
		return fmt.Errorf("unexpected %v: %w", code, ErrProtocol)
	}
	return m.handle(code, p)
}
