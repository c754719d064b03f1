// Package engine runs rsync's three roles — generator, sender and receiver —
// over any byte stream: a remote shell's pipes, a daemon socket, or in-memory
// pipes for a local copy.
package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/report"
	"github.com/gorsync/gorsync/internal/wire"
)

// Options are the transfer options the roles act on.
type Options struct {
	Recursive      bool
	Dirs           bool
	Links          bool
	Perms          bool
	Times          bool
	Group          bool
	Owner          bool
	Devices        bool
	Specials       bool
	WholeFile      bool
	DryRun         bool
	AlwaysChecksum bool
	IgnoreTimes    bool
	SizeOnly       bool
	NumericIDs     bool
	Verbose        int
	Quiet          bool
	// CompressLevel is --compress-level, or delta.LevelUnspecified.
	CompressLevel int
	// SentRules are the filter rules a receiving client sent to the
	// sender (wire form), and SentCVS its -C: the sender must not list
	// what they exclude.
	SentRules []string
	SentCVS   bool
	// Requested, on a pulling client, says whether a listed name is one
	// the client asked for (nil: any).
	Requested func(name string, isDir bool) bool
	// Select holds the receiver-side selection, listing and
	// source-removal options (select.go).
	Select SelectOptions

	// Relative is -R: received names may start with "/" (stripped after
	// sorting). ImpliedDirs is off after --no-implied-dirs: implied
	// directories are not created as such, and missing parents are made
	// with default permissions. PruneEmptyDirs is -m.
	Relative       bool
	ImpliedDirs    bool
	PruneEmptyDirs bool
	// OneFileSystem is -x's count (the sender's walk).
	OneFileSystem int

	// Delete is the --delete mode; Force (--force) deletes non-empty
	// directories in the way of other entries; with LimitDelete, at most
	// MaxDelete entries are deleted (--max-delete); IgnoreErrors
	// (--ignore-errors) deletes even after an I/O error on the sender.
	Delete       DeleteMode
	Force        bool
	LimitDelete  bool
	MaxDelete    int
	IgnoreErrors bool
	// MissingArgs is --ignore-missing-args (1) or --delete-missing-args (2).
	MissingArgs int
	// Filter holds the receiving side's filter rules, which protect
	// destination entries from deletion (nil for none).
	Filter *filter.List
	// Handoff, set on both roles of a local copy, lets the sender pass
	// whole files to the receiver as open files (localcopy.go).
	Handoff *Handoff
}

// compression returns the session's token compression at the level the
// options ask for; rsync's level rules may turn it off (zlib level 0).
// rsync: token.c init_compression_level
func (c *Conn) compression(o *Options) (delta.Compression, int) {
	if c.Session.Compression == "" {
		return delta.NoCompression, 0
	}
	comp, err := delta.ParseCompression(c.Session.Compression)
	if err != nil {
		return delta.NoCompression, 0
	}
	return delta.NormalizeLevel(comp, o.CompressLevel)
}

// I/O error bits carried in the file list and MSG_IO_ERROR. rsync: rsync.h IOERR_*.
const (
	IOErrGeneral  = 1 << 0
	IOErrVanished = 1 << 1
	IOErrDelLimit = 1 << 2
)

// Item flags exchanged with each file index from protocol 29. rsync: rsync.h ITEM_*.
const (
	itemReportAtime      = 1 << 0
	itemReportChange     = 1 << 1
	itemReportSize       = 1 << 2
	itemReportTimeFail   = 1 << 2
	itemReportTime       = 1 << 3
	itemReportPerms      = 1 << 4
	itemReportOwner      = 1 << 5
	itemReportGroup      = 1 << 6
	itemReportACL        = 1 << 7
	itemReportXattr      = 1 << 8
	itemReportCrtime     = 1 << 10
	itemBasisTypeFollows = 1 << 11
	itemXnameFollows     = 1 << 12
	itemIsNew            = 1 << 13
	itemLocalChange      = 1 << 14
	itemTransfer         = 1 << 15
	itemMissingData      = 1 << 16

	// significantItemFlags are those whose change is worth telling the sender.
	significantItemFlags = ^(itemReportAtime | itemReportCrtime | itemBasisTypeFollows | itemXnameFollows | itemLocalChange) & 0xffff
)

// Test hooks force the paths a real transfer reaches only by chance: a basis
// file changing between its block sums and its reconstruction, or a corrupt
// whole-file checksum. Only tests set them.
var (
	// TestHookAfterSums runs in the generator after a file's block sums.
	TestHookAfterSums func(name string)
	// TestHookCorruptSum makes the sender spoil a file's whole-file
	// checksum when it returns true.
	TestHookCorruptSum func(name string) bool
)

// Logger receives the messages a role prints. On a client they go to the
// terminal; on a server they travel to the client as multiplexed messages.
type Logger interface {
	Info(msg string)
	Error(msg string)
	Warning(msg string)
	// XferError reports a failure to transfer one file (rsync's
	// FERROR_XFER): the run goes on but ends with exit code 23.
	XferError(msg string)
}

// Conn is one side's view of the connection: a decoder for what the peer
// sends, an encoder for what we send, and the multiplexer carrying our
// messages when output is multiplexed.
type Conn struct {
	R   *wire.Reader
	W   *wire.Writer
	Mux *wire.MuxWriter // nil when our output is not multiplexed

	Session *protocol.Session
	Log     Logger
	// OnSuccess, when set, handles MSG_SUCCESS from the peer's generator.
	OnSuccess func(payload []byte) error
	In, Out   *Counter // raw byte counts, when known
	// Raw reads the peer's bytes beneath R's demultiplexing: before
	// protocol 31, --files-from names travel outside the multiplexed
	// frames. It is nil when R itself is unmultiplexed.
	Raw *wire.Reader

	// LogDeleted makes a client print the server's MSG_DELETED as
	// "deleting NAME" lines (-v). rsync: io.c read_a_msg, log.c log_delete
	LogDeleted bool
	// OnDelStats, if set, receives the deletion counts of NDX_DEL_STATS.
	OnDelStats func(st *Stats)

	mu      sync.Mutex
	ioError int32 // I/O error bits reported by the peer (MSG_IO_ERROR or flist end)
	exitErr error // peer's MSG_ERROR_EXIT
	xferErr bool  // a file failed to transfer (rsync's got_xfer_error)
}

// XferError reports a failure to transfer one file, on this side or the
// peer's, which makes the run end with exit code 23.
func (c *Conn) XferError(msg string) {
	c.mu.Lock()
	c.xferErr = true
	c.mu.Unlock()
	if c.Log != nil {
		c.Log.XferError(msg)
	}
}

// Result is the run's outcome from this side's I/O error bits, the peer's,
// and any file that failed. rsync: cleanup.c exit_cleanup.
func (c *Conn) Result(local int32) error {
	c.mu.Lock()
	bits, xfer := local|c.ioError, c.xferErr
	c.mu.Unlock()
	if err := IOErrorResult(bits); err != nil {
		return err
	}
	if xfer {
		return ErrPartial
	}
	return nil
}

// AddIOError records I/O error bits.
func (c *Conn) AddIOError(v int32) {
	c.mu.Lock()
	c.ioError |= v
	c.mu.Unlock()
}

// IOError returns the I/O error bits recorded so far.
func (c *Conn) IOError() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ioError
}

// SendMsg flushes pending data and sends one message, so that the message
// follows everything written before it.
func (c *Conn) SendMsg(code wire.MsgCode, payload []byte) error {
	if c.Mux == nil {
		return nil
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	return c.Mux.WriteMsg(code, payload)
}

// SendMsgInt sends a message whose payload is one 4-byte integer.
func (c *Conn) SendMsgInt(code wire.MsgCode, v int32) error {
	b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	return c.SendMsg(code, b[:])
}

// HandleMsg is the wire.MsgHandler for messages arriving from the peer.
func (c *Conn) HandleMsg(code wire.MsgCode, p []byte) error {
	switch code {
	case wire.MsgInfo, wire.MsgClient, wire.MsgLog:
		if c.Log != nil {
			c.Log.Info(string(p))
		}
	case wire.MsgErrorXfer:
		c.XferError(string(p))
	case wire.MsgError, wire.MsgErrorSock, wire.MsgErrorUTF8:
		if c.Log != nil {
			c.Log.Error(string(p))
		}
	case wire.MsgWarning:
		if c.Log != nil {
			c.Log.Warning(string(p))
		}
	case wire.MsgIOError:
		if len(p) != 4 {
			return fmt.Errorf("%v with %d bytes: %w", code, len(p), wire.ErrProtocol)
		}
		c.AddIOError(int32(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24))
	case wire.MsgErrorExit:
		v := int32(0)
		if len(p) == 4 {
			v = int32(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
		}
		c.mu.Lock()
		c.exitErr = &PeerExitError{Code: int(v)}
		c.mu.Unlock()
		return c.exitErr
	case wire.MsgRedo, wire.MsgStats:
		// rsync passes these only between its receiver and generator
		// processes; gorsync's roles talk in memory, and the wire never
		// carries them. rsync: io.c read_a_msg (invalid_msg).
		return fmt.Errorf("unexpected %v from the peer: %w", code, wire.ErrProtocol)
	case wire.MsgSuccess:
		if c.OnSuccess != nil {
			return c.OnSuccess(p)
		}
	case wire.MsgDeleted:
		// A directory's name comes with its terminating NUL.
		isDir := len(p) > 0 && p[len(p)-1] == 0
		if isDir {
			p = p[:len(p)-1]
		}
		if c.LogDeleted && c.Log != nil {
			c.Log.Info(deletingLine(string(p), isDir))
		}
	case wire.MsgNoop, wire.MsgNoSend, wire.MsgIOTimeout:
		// Nothing to do for the options gorsync supports so far.
	default:
		return fmt.Errorf("unexpected message %v: %w", code, wire.ErrProtocol)
	}
	return nil
}

// PeerExitError is the peer's MSG_ERROR_EXIT: it has reported its error
// and we exit with its code without another message.
type PeerExitError struct{ Code int }

func (e *PeerExitError) Error() string {
	return fmt.Sprintf("peer exited with code %d", e.Code)
}

// ExitError carries an rsync exit code.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// Exit codes. rsync: errcode.h.
const (
	ExitSyntax      = 1
	ExitProtocol    = 2
	ExitFileSelect  = 3
	ExitUnsupported = 4
	ExitStartClient = 5
	ExitSocketIO    = 10
	ExitFileIO      = 11
	ExitStreamIO    = 12
	ExitPartial     = 23
	ExitVanished    = 24
	ExitDelLimit    = 25
)

// ErrPartial reports that some files could not be transferred.
var ErrPartial = &ExitError{Code: ExitPartial, Msg: "some files/attrs were not transferred (see previous errors)"}

// ErrVanished reports that some source files vanished.
var ErrVanished = &ExitError{Code: ExitVanished, Msg: "some files vanished before they could be transferred"}

// IOErrorResult turns accumulated I/O error bits into rsync's exit status.
// rsync: cleanup.c exit_cleanup.
func IOErrorResult(bits int32) error {
	switch {
	case bits&IOErrDelLimit != 0:
		return &ExitError{Code: ExitDelLimit, Msg: "the --max-delete limit stopped deletions"}
	case bits&IOErrGeneral != 0:
		return ErrPartial
	case bits&IOErrVanished != 0:
		return ErrVanished
	}
	return nil
}

// streamErr gives an unexpected end of stream rsync's wording.
func streamErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("connection unexpectedly closed: %w", wire.ErrProtocol)
	}
	return err
}

// Stats is the transfer statistics of one side.
type Stats = report.Stats

// StderrLogger prints messages to a client's terminal.
type StderrLogger struct {
	Out, Err io.Writer
	mu       sync.Mutex
}

// NewTerminalLogger returns a Logger writing to stdout and stderr.
func NewTerminalLogger() *StderrLogger { return &StderrLogger{Out: os.Stdout, Err: os.Stderr} }

func (l *StderrLogger) write(w io.Writer, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(w, msg)
}

// Info prints to standard output.
func (l *StderrLogger) Info(msg string) { l.write(l.Out, msg) }

// Error prints to standard error.
func (l *StderrLogger) Error(msg string) { l.write(l.Err, msg) }

// Warning prints to standard error.
func (l *StderrLogger) Warning(msg string) { l.write(l.Err, msg) }

// XferError prints to standard error.
func (l *StderrLogger) XferError(msg string) { l.write(l.Err, msg) }

// ServerLogger routes a server's messages as rsync's default
// (msgs2stderr=2) does: information travels to the client as MSG_INFO,
// errors and warnings go straight to the server's standard error, which a
// remote shell passes to the client's terminal. Before protocol 29 rsync
// sends everything down the connection instead. rsync: log.c rwrite.
type ServerLogger struct {
	Mux      *wire.MuxWriter
	Stderr   io.Writer
	Protocol int
	mu       sync.Mutex
}

func (l *ServerLogger) send(code wire.MsgCode, msg string) {
	if code != wire.MsgInfo && l.Protocol >= 29 || l.Mux == nil {
		l.mu.Lock()
		io.WriteString(l.Stderr, msg)
		l.mu.Unlock()
		return
	}
	if l.Protocol < 30 {
		switch code {
		case wire.MsgError:
			code = wire.MsgErrorXfer
		case wire.MsgWarning:
			code = wire.MsgInfo
		}
	}
	if l.Mux.WriteMsg(code, []byte(msg)) != nil {
		l.mu.Lock()
		io.WriteString(l.Stderr, msg)
		l.mu.Unlock()
	}
}

// Info sends MSG_INFO.
func (l *ServerLogger) Info(msg string) { l.send(wire.MsgInfo, msg) }

// Error reports an error.
func (l *ServerLogger) Error(msg string) { l.send(wire.MsgError, msg) }

// Warning reports a warning.
func (l *ServerLogger) Warning(msg string) { l.send(wire.MsgWarning, msg) }

// XferError reports a failed file.
func (l *ServerLogger) XferError(msg string) { l.send(wire.MsgErrorXfer, msg) }

// Counter counts the bytes that pass through a connection, as rsync's
// total_read and total_written do (multiplexing headers included).
type Counter struct {
	R io.Reader
	W io.Writer
	n atomic.Int64
}

// Read reads from R and counts.
func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Write writes to W and counts.
func (c *Counter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// N returns the bytes counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

// Vectored returns a writer to W that counts into c and, when W is a
// descriptor writev can serve (fastio.NewVecWriter), also writes several
// buffers with one system call; otherwise it returns c itself.
func (c *Counter) Vectored() io.Writer {
	if v := fastio.NewVecWriter(c.W); v != nil {
		return &vecCounter{c: c, v: v}
	}
	return c
}

// vecCounter is a Counter's fastio.BuffersWriter.
type vecCounter struct {
	c *Counter
	v *fastio.VecWriter
}

func (vc *vecCounter) Write(p []byte) (int, error) { return vc.c.Write(p) }

func (vc *vecCounter) WriteBuffers(bufs [][]byte) (int64, error) {
	n, err := vc.v.WriteBuffers(bufs)
	vc.c.n.Add(n)
	return n, err
}

// BytesRead is the raw byte count received on the connection.
func (c *Conn) BytesRead() int64 {
	if c.In == nil {
		return 0
	}
	return c.In.N()
}

// BytesWritten is the raw byte count sent, after flushing what is buffered.
func (c *Conn) BytesWritten() int64 {
	if c.Out == nil {
		return 0
	}
	return c.Out.N()
}
