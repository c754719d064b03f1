package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
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
// can share one connection. rsync: io.c mplex_write.
type MuxWriter struct {
	mu    sync.Mutex
	w     io.Writer
	frame []byte
}

// NewMuxWriter returns a MuxWriter sending frames to w.
func NewMuxWriter(w io.Writer) *MuxWriter {
	return &MuxWriter{w: w, frame: make([]byte, 0, 4+256<<10)}
}

// Write sends p as one or more MSG_DATA frames.
func (m *MuxWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
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

// WriteMsg sends one message of the given code.
func (m *MuxWriter) WriteMsg(code MsgCode, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("%v of %d bytes is too long", code, len(payload))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.send(code, payload)
}

func (m *MuxWriter) send(code MsgCode, p []byte) error {
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(mplexBase+int(code))<<24|uint32(len(p)))
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
