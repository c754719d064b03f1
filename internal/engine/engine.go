// Package engine runs rsync's three roles — generator, sender and receiver —
// over any byte stream: a remote shell's pipes, a daemon socket, or in-memory
// pipes for a local copy.
package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
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
	Quiet          bool
	// Info holds the levels of rsync's --info flags for what the roles
	// print (rsync's info_levels, which -v implies); -q (Quiet) still
	// silences them all.
	Info InfoLevels
	// Out is what a client prints per entry (-v, -i, --out-format);
	// LogFormat what it records in its --log-file (On without one false).
	Out       OutFormat
	LogFormat OutFormat
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
	// MissingArgs is what a missing source argument becomes; with
	// flist.DeleteMissing the receiver deletes its destination.
	MissingArgs flist.MissingArgs
	// MaxAlloc is --max-alloc in bytes: the most an allocation the peer
	// sizes may take (0: rsync's default; see checkAlloc).
	MaxAlloc int64
	// Filter holds the receiving side's filter rules, which protect
	// destination entries from deletion (nil for none).
	Filter *filter.List
	// Handoff, set on both roles of a local copy, lets the sender pass
	// whole files to the receiver as open files (localcopy.go).
	Handoff *Handoff

	// WriteBatch is rsync's write_batch on a client writing a batch file
	// (1 for --write-batch, -1 for --only-write-batch), and on a server
	// told --only-write-batch (-1): its generator sends sums although
	// nothing is written (DryRun), for data only the batch gets. A
	// sending client records through BatchTee.
	WriteBatch int
	BatchTee   *BatchTee
	// ReadBatch applies a batch file: the connection reads the file, and
	// the generator's requests travel to the receiver through BatchGen
	// (rsync's batch_gen_fd) instead of to a sender.
	ReadBatch bool
	BatchGen  *wire.Reader

	// IO says which fast paths the roles take.
	IO fastio.Config
	// Hooks are the test hooks (zero in a real transfer).
	Hooks Hooks
	// OnFile, when set, is told of each file whose transfer ends on this
	// side.
	OnFile func(FileEvent)
}

// fileDone tells the embedder (Options.OnFile) that e's data went across;
// a server has no embedder to tell.
func (o *Options) fileDone(e *flist.Entry, amServer bool) {
	if o.OnFile != nil && !amServer {
		o.OnFile(FileEvent{Name: e.Name(), Size: e.Size, Transferred: true})
	}
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
	itemDeleted          = 1 << 17 // only for log lines

	// significantItemFlags are those whose change is worth telling the sender.
	significantItemFlags = ^(itemReportAtime | itemReportCrtime | itemBasisTypeFollows | itemXnameFollows | itemLocalChange) & 0xffff
)

// Hooks force the paths a real transfer reaches only by chance: a basis
// file changing between its block sums and its reconstruction, a corrupt
// whole-file checksum, a source truncated under its mapping or changed
// while handed over. They travel in Options, so each transfer has its own;
// only tests set them.
type Hooks struct {
	// AfterSums runs in the generator after a file's block sums.
	AfterSums func(name string)
	// CorruptSum makes the sender spoil a file's whole-file checksum
	// when it returns true.
	CorruptSum func(name string) bool
	// Mapped runs in the sender once a source file's view is open,
	// before the block search reads it (tests truncate the file here).
	Mapped func(name string, mapped bool)
	// Handed runs in the receiver of a local copy before it copies a
	// handed-over file (list name): tests change the source there.
	Handed func(name string)
	// CloseTemp, when set, closes a received file's temporary file in
	// place of its Close: tests report the failure a full disk or an
	// NFS server gives only at close.
	CloseTemp func(f *os.File) error
	// Listed runs in the sender once its file list is built, before it
	// opens any file: tests swap a source directory for a link there.
	// Under incremental recursion it runs when the walk has made the
	// last list, which for a small tree is before any file is opened.
	Listed func()
	// FirstListed runs in the sender of an incremental transfer once the
	// first list is made, before the walk goes on: tests change the
	// directories it has yet to list.
	FirstListed func()
	// MadeDir runs in the receiver after it makes a directory on the way
	// to the destination (the destination itself, --mkpath's
	// components), before it goes on: tests swap it for a link there.
	MadeDir func(path string)
}

// FileEvent tells an embedder that one file's transfer has ended on this
// side: its name in the file list, its size, and whether its data was
// sent or received (false: it was up to date, or failed).
type FileEvent struct {
	Name        string
	Size        int64
	Transferred bool
}

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

// Conn is one side's view of a ready connection (protocol.Conn: the
// session, the decoder for what the peer sends, the encoder for what we
// send) with what the roles add: where messages go and what the peer's
// messages do.
type Conn struct {
	*protocol.Conn

	Log Logger
	// OnSuccess, when set, handles MSG_SUCCESS from the peer's generator.
	OnSuccess func(payload []byte) error

	// LogDeleted, on a client, holds the options whose out-format the
	// server's MSG_DELETED prints with (nil: not printed).
	// rsync: io.c read_a_msg, log.c log_delete
	LogDeleted *Options
	// OnDelStats, if set, receives the deletion counts of NDX_DEL_STATS.
	OnDelStats func(st *Stats)
	// OnNoSend, if set, is told of each file the sender could not send
	// (MSG_NO_SEND, which only incremental recursion needs).
	OnNoSend func(ndx int32)

	mu      sync.Mutex
	ioError int32 // I/O error bits reported by the peer (MSG_IO_ERROR or flist end)
	exitErr error // peer's MSG_ERROR_EXIT
	xferErr bool  // a file failed to transfer (rsync's got_xfer_error)
}

// NewConn returns the roles' view of pc, with the peer's messages handled
// by HandleMsg and this side's printed through log.
func NewConn(pc *protocol.Conn, log Logger) *Conn {
	c := &Conn{Conn: pc, Log: log}
	if pc.Demux != nil {
		pc.Demux.SetHandler(c.HandleMsg)
	}
	return c
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
	if err := exitcode.FromIOError(bits); err != nil {
		return err
	}
	if xfer {
		return exitcode.ErrPartial
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
		c.exitErr = &exitcode.PeerExit{Code: int(v)}
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
		if c.LogDeleted != nil {
			c.logDeleted(c.LogDeleted, string(p), isDir)
		}
	case wire.MsgNoSend:
		if c.OnNoSend == nil {
			return nil
		}
		if len(p) != 4 {
			return fmt.Errorf("invalid multi-message %d:%d: %w", code, len(p), wire.ErrProtocol)
		}
		c.OnNoSend(int32(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24))
	case wire.MsgNoop, wire.MsgIOTimeout:
		// Nothing to do for the options gorsync supports so far.
	default:
		return fmt.Errorf("unexpected message %v: %w", code, wire.ErrProtocol)
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

// StderrLogger prints messages to a client's terminal; with Quiet (-q)
// it drops the informational ones. rsync: log.c rwrite (FINFO)
type StderrLogger struct {
	Out, Err io.Writer
	Quiet    bool
	// Esc, when set, escapes what the terminal should not show
	// (rsync's rwrite); nil writes messages as they are.
	Esc *report.Escaper
	// File, when set, records every message too (--log-file).
	File *LogFile
	mu   sync.Mutex
}

// NewTerminalLogger returns a Logger writing to stdout and stderr.
func NewTerminalLogger() *StderrLogger { return &StderrLogger{Out: os.Stdout, Err: os.Stderr} }

func (l *StderrLogger) write(w io.Writer, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(w, msg)
}

// lines escapes an error's text line by line: gorsync's own errors may
// join several of rsync's messages in one.
func (l *StderrLogger) lines(msg string) string {
	if l.Esc == nil {
		return msg
	}
	var b strings.Builder
	for msg != "" {
		line := msg
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		b.WriteString(l.Esc.Escape(line))
		msg = msg[len(line):]
	}
	return b.String()
}

// Info prints to standard output, unless Quiet, and records it in the
// log file: one message, as rsync's rwrite gets it (which logs before it
// looks at quiet).
func (l *StderrLogger) Info(msg string) {
	l.File.Log(msg)
	if !l.Quiet {
		l.write(l.Out, l.Esc.Escape(msg))
	}
}

// Client prints to standard output only (rsync's FCLIENT), unless Quiet.
func (l *StderrLogger) Client(msg string) {
	if !l.Quiet {
		l.write(l.Out, l.Esc.Escape(msg))
	}
}

// LogOnly records in the log file only (rsync's FLOG).
func (l *StderrLogger) LogOnly(msg string) { l.File.Log(msg) }

// Error prints to standard error.
func (l *StderrLogger) Error(msg string) {
	l.File.logLines(msg)
	l.write(l.Err, l.lines(msg))
}

// Warning prints to standard error.
func (l *StderrLogger) Warning(msg string) {
	l.File.logLines(msg)
	l.write(l.Err, l.lines(msg))
}

// XferError prints to standard error.
func (l *StderrLogger) XferError(msg string) {
	l.File.logLines(msg)
	l.write(l.Err, l.lines(msg))
}

// ServerLogger routes a server's messages as rsync's default
// (msgs2stderr=2) does: information travels to the client as MSG_INFO,
// errors and warnings go straight to the server's standard error, which a
// remote shell passes to the client's terminal. Before protocol 29 rsync
// sends everything down the connection instead. rsync: log.c rwrite.
//
// With --msgs2stderr (All) every message goes to standard error; with
// --no-msgs2stderr (Client) every message goes down the connection.
type ServerLogger struct {
	Mux         *wire.MuxWriter
	Stderr      io.Writer
	Protocol    int
	All, Client bool
	Quiet       bool // -q: informational messages are dropped
	mu          sync.Mutex
}

func (l *ServerLogger) send(code wire.MsgCode, msg string) {
	if l.All || !l.Client && code != wire.MsgInfo && l.Protocol >= 29 || l.Mux == nil {
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

// Info sends MSG_INFO, unless Quiet.
func (l *ServerLogger) Info(msg string) {
	if !l.Quiet {
		l.send(wire.MsgInfo, msg)
	}
}

// Error reports an error.
func (l *ServerLogger) Error(msg string) { l.send(wire.MsgError, msg) }

// Warning reports a warning.
func (l *ServerLogger) Warning(msg string) { l.send(wire.MsgWarning, msg) }

// XferError reports a failed file.
func (l *ServerLogger) XferError(msg string) { l.send(wire.MsgErrorXfer, msg) }
