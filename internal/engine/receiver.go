package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/wire"
)

// Receiving is the receiving side of a transfer: the generator, which asks
// for files, and the receiver, which writes what the sender returns. They run
// concurrently and share one connection: the generator writes to it and the
// receiver reads from it. rsync: main.c do_recv.
type Receiving struct {
	Conn *Conn
	Opts *Options
	Root *fsys.Root
	List *flist.List
	// LocalName is the destination name when a single file is copied onto a
	// non-directory (rsync's get_local_name "mode 2").
	LocalName string
	Stats     Stats

	// DryRunMissing marks a dry run into a destination directory that does
	// not exist: Root is nil and every entry is new.
	DryRunMissing bool
	// RootCreated says the destination directory was made for this
	// transfer, so its "." entry counts as new (rsync's FLAG_DIR_CREATED).
	RootCreated bool
	failed      bool
	inNdx       *wire.NdxCodec
	tokens      delta.TokenReader
	redo        map[int32]bool // files sent back for a redo, not yet received
}

// RecvFileList reads the sender's file list, its id lists and end marker,
// then sorts and cleans it. rsync: flist.c recv_file_list.
func (rs *Receiving) RecvFileList(fo *flist.Options) error {
	c := rs.Conn
	start := time.Now()
	before := c.BytesRead()
	dec, err := flist.NewDecoder(*fo)
	if err != nil {
		return err
	}
	list, err := dec.ReadList(c.R)
	if err != nil {
		return fmt.Errorf("receive file list: %w", streamErr(err))
	}
	c.AddIOError(list.IOError)
	for _, e := range list.Entries {
		if !rs.Opts.NumericIDs {
			if rs.Opts.Owner {
				e.UID = fsys.MapUID(e.UID, list.Users[e.UID])
			}
			if rs.Opts.Group {
				e.GID = fsys.MapGID(e.GID, list.Groups[e.GID])
			}
		}
		if rs.Opts.Group && !fsys.AmRoot() && !fsys.CanSetGroup(e.GID) {
			e.Flags |= flist.FlagSkipGroup
		}
	}
	rs.List = list
	rs.Stats.FlistSize = c.BytesRead() - before
	rs.Stats.FlistXferTime = time.Since(start).Milliseconds()
	CountList(rs.List, &rs.Stats)
	return nil
}

// Run transfers everything in the list: the generator goroutine requests
// files while this goroutine receives them. rsync: main.c do_recv,
// receiver.c recv_files.
func (rs *Receiving) Run(amServer bool) error {
	c := rs.Conn
	events := make(chan genEvent, 1024)
	g := &generator{
		rs: rs, c: c, opts: rs.Opts, root: rs.Root, list: rs.List,
		outNdx: wire.NewNdxCodec(c.Session.Protocol), events: events, stats: &rs.Stats,
		dfltPerms: 0o777 &^ umask(),
		fileSum:   checksum.NewFileHasher(c.Session.FileParams()),
		block:     checksum.NewBlockHasher(c.Session.XferParams()),
		amServer:  amServer,
	}
	// A client receiver reports the deletion counts the sender echoes.
	c.OnDelStats = func(st *Stats) {
		rs.Stats.DeletedFiles, rs.Stats.DeletedDirs = st.DeletedFiles, st.DeletedDirs
		rs.Stats.DeletedSymlinks, rs.Stats.DeletedDevices, rs.Stats.DeletedSpecials = st.DeletedSymlinks, st.DeletedDevices, st.DeletedSpecials
	}
	genErr := make(chan error, 1)
	go func() { genErr <- g.run() }()
	recvErr := make(chan error, 1)
	go func() { recvErr <- rs.recvFiles(events, amServer) }()
	var err, gerr error
	select {
	case err = <-recvErr:
		close(events)
		gerr = <-genErr
	case gerr = <-genErr:
		// A generator that gives up on the whole transfer (rsync's
		// exit_cleanup) stops the receiver too, without waiting for
		// data the sender will not send.
		var ee *exitcode.Error
		var se *filter.SyntaxError
		var fe *filter.Error
		if errors.As(gerr, &ee) && ee.Code == exitcode.Protocol || errors.As(gerr, &se) || errors.As(gerr, &fe) {
			return gerr
		}
		err = <-recvErr
		close(events)
	}
	if err == nil && gerr != nil && gerr != errReceiverGone {
		err = gerr
	}
	if err != nil {
		return err
	}
	if g.failed || rs.failed {
		return exitcode.ErrPartial
	}
	return c.Result(0)
}

func (rs *Receiving) errorf(format string, args ...any) {
	rs.failed = true
	rs.Conn.XferError(fmt.Sprintf(format, args...))
}

// recvFiles is the receiver's loop. rsync: receiver.c recv_files.
func (rs *Receiving) recvFiles(events chan<- genEvent, amServer bool) error {
	c := rs.Conn
	proto := c.Session.Protocol
	rs.inNdx = wire.NewNdxCodec(proto)
	comp, _ := c.compression(rs.Opts)
	rs.tokens = delta.NewTokenReader(c.R, comp, proto)
	if cl, ok := rs.tokens.(io.Closer); ok {
		defer cl.Close()
	}
	phase, maxPhase := 0, 1
	if proto >= 29 {
		maxPhase = 2
	}
	rx := delta.NewReceiver()
	for {
		ndx, iflags, err := readNdxAndAttrs(c, rs.inNdx, rs.List, false)
		if err != nil {
			return err
		}
		if ndx == wire.NdxDone {
			phase++
			if phase > maxPhase {
				break
			}
			events <- genEvent{redo: -1}
			continue
		}
		e := rs.List.Entries[ndx]
		if iflags&itemTransfer == 0 {
			rs.logItem(e, iflags, amServer)
			continue
		}
		if phase == 0 || !rs.alreadyCounted(ndx) {
			rs.Stats.XferredFiles++
			rs.Stats.TotalTransferredSize += e.Size
		}
		if rs.Opts.DryRun {
			if !amServer && rs.Opts.Verbose > 0 {
				c.Log.Info(itemName(e, "") + "\n") // the list's name, as rsync logs it
			}
			continue
		}
		if err := rs.receiveFile(rx, ndx, e, phase, events, amServer); err != nil {
			return err
		}
	}
	for ndx := range rs.redo {
		// The sender never resent a file we asked for again.
		rs.errorf("ERROR: %s failed verification -- update discarded.\n", itemName(rs.List.Entries[ndx], rs.LocalName))
	}
	if !amServer {
		var peer Stats
		if err := readStats(c, &peer); err != nil {
			return fmt.Errorf("read stats: %w", err)
		}
		rs.Stats.TotalSize = peer.TotalSize
		rs.Stats.TotalWritten, rs.Stats.TotalRead = peer.TotalWritten, peer.TotalRead
		rs.Stats.FlistBuildTime = peer.FlistBuildTime
		rs.Stats.FlistXferTime = peer.FlistXferTime
	}
	events <- genEvent{redo: -1}
	if proto >= 31 {
		ndx, _, err := readNdxAndAttrs(c, rs.inNdx, rs.List, false)
		if err != nil {
			return err
		}
		if ndx != wire.NdxDone {
			return fmt.Errorf("invalid packet at end of run (%d) [receiver]: %w", ndx, wire.ErrProtocol)
		}
		events <- genEvent{redo: -1}
	}
	return nil
}

func (rs *Receiving) alreadyCounted(ndx int32) bool { return true }

func (rs *Receiving) logItem(e *flist.Entry, iflags uint32, amServer bool) {
	if !amServer {
		logUntransferred(rs.Conn.Log, rs.Opts, e, rs.LocalName, iflags)
	}
}

// receiveFile reconstructs one file into a temporary file beside its
// destination and renames it into place. rsync: receiver.c receive_data and
// finish_transfer.
func (rs *Receiving) receiveFile(rx *delta.Receiver, ndx int32, e *flist.Entry, phase int, events chan<- genEvent, amServer bool) error {
	c := rs.Conn
	proto := c.Session.Protocol
	name := e.Name()
	if rs.LocalName != "" {
		name = rs.LocalName
	}
	params := c.Session.XferParams()
	head, err := delta.ReadSumHead(c.R, proto, params.DigestLen())
	if err != nil {
		return fmt.Errorf("receive %s: %w", name, streamErr(err))
	}
	if hf, ok := rs.Opts.Handoff.take(ndx); ok {
		return rs.receiveHanded(hf, ndx, e, name, phase, events, amServer)
	}
	var basis *os.File
	if head.Count > 0 {
		basis, err = rs.Root.Open(name)
		if err != nil {
			rs.errorf("rsync: [receiver] failed to open %q: %v\n", name, unwrapPathErr(err))
		}
	}
	tmp, tmpName, err := rs.Root.CreateTemp(name)
	if err != nil {
		// Drain the file's data so the stream stays in step.
		rs.errorf("rsync: [receiver] mkstemp %q failed: %v\n", name, unwrapPathErr(err))
		_, derr := rx.Receive(c.R, delta.NewPlainTokenReader(c.R), head, params, basis, nil)
		if basis != nil {
			basis.Close()
		}
		if derr != nil && !errors.Is(derr, delta.ErrChecksumMismatch) {
			return fmt.Errorf("receive %s: %w", name, streamErr(derr))
		}
		return nil
	}
	out := &trackWriter{w: tmp}
	bw := rs.Opts.IO.GetWriter(out, e.Size)
	bv := openBasis(rs.Opts.IO, basis)
	res, rerr := rx.Receive(c.R, rs.tokens, head, params, bv.reader(), bw)
	if rerr == nil {
		if err := bw.Flush(); err != nil {
			rerr = fmt.Errorf("write: %w", err)
		}
	}
	fastio.PutWriter(bw)
	bv.close()
	if basis != nil {
		basis.Close()
	}
	rs.Stats.LiteralData += res.Literal
	rs.Stats.MatchedData += res.Matched
	if rerr != nil && !errors.Is(rerr, delta.ErrChecksumMismatch) {
		tmp.Close()
		rs.Root.Remove(tmpName)
		if out.err != nil {
			rs.errorf("rsync: [receiver] write failed on %q: %v\n", name, unwrapPathErr(rerr))
			return nil
		}
		return fmt.Errorf("receive %s: %w", name, streamErr(rerr))
	}
	if errors.Is(rerr, delta.ErrChecksumMismatch) {
		tmp.Close()
		rs.Root.Remove(tmpName)
		rs.verificationFailed(ndx, name, phase, events)
		return nil
	}
	return rs.completed(tmp, tmpName, name, ndx, e, amServer)
}

// completed puts a received file that passed verification in place: its
// attributes, the rename, MSG_SUCCESS where the sender wants it, and the
// client's -v line.
func (rs *Receiving) completed(tmp *os.File, tmpName, name string, ndx int32, e *flist.Entry, amServer bool) error {
	c := rs.Conn
	delete(rs.redo, ndx)
	if fatal, err := rs.finish(tmp, tmpName, name, e); fatal != nil {
		return fatal
	} else if err != nil {
		rs.errorf("rsync: [receiver] %v\n", err)
	} else {
		c.succeeded(rs.Opts, rs.Root, name, ndx)
		rs.Opts.fileDone(e, amServer)
	}
	if rs.Opts.Verbose > 0 && !amServer {
		c.Log.Info(itemName(e, "") + "\n") // the list's name, as rsync logs it
	}
	return nil
}

// verificationFailed asks for file ndx again in the redo phase, or gives it
// up when it already failed there. rsync: receiver.c recv_files, the
// failed-verification case.
func (rs *Receiving) verificationFailed(ndx int32, name string, phase int, events chan<- genEvent) {
	if phase == 0 {
		if rs.Opts.Verbose > 0 {
			rs.Conn.Log.Warning(fmt.Sprintf("WARNING: %s failed verification -- update discarded (will try again).\n", name))
		}
		if rs.redo == nil {
			rs.redo = make(map[int32]bool)
		}
		rs.redo[ndx] = true
		events <- genEvent{redo: ndx}
		return
	}
	delete(rs.redo, ndx)
	rs.errorf("ERROR: %s failed verification -- update discarded.\n", name)
}

// finish sets the temporary file's attributes, closes it and renames it
// into place. A failure of one file is err (the run goes on, exit 23). A
// failed close is fatal instead, as in rsync ("close failed on", exit 11):
// a disk that is full, or an NFS server that refuses the data, may say so
// only at close, and what it refused must not replace the file.
// rsync: receiver.c recv_files, rsync.c finish_transfer
func (rs *Receiving) finish(tmp *os.File, tmpName, name string, e *flist.Entry) (fatal, err error) {
	closed := false
	defer func() {
		if !closed {
			tmp.Close()
		}
	}()
	o := rs.Opts
	// Only a mode kept from the file being replaced needs its stat.
	var st fsys.Stat
	exists := false
	if !o.Perms {
		var err error
		st, err = rs.Root.LstatT(name)
		exists = err == nil && st.IsRegular()
	}
	// The ids that are kept, each changed only if the new file's differs
	// (fsys.SetFileAttrs); its access time stays, as rsync writes back the
	// one it read. rsync: rsync.c set_file_attrs
	var a fsys.Attrs
	if o.Owner && fsys.AmRoot() {
		a.Set |= fsys.SetUID
		a.UID = e.UID
	}
	if o.Group && e.Flags&flist.FlagSkipGroup == 0 {
		a.Set |= fsys.SetGID
		a.GID = e.GID
	}
	if o.Times {
		a.Set |= fsys.SetMtime
		a.Mtime = time.Unix(e.Mtime, int64(e.MtimeNsec))
	}
	a.Set |= fsys.SetMode
	switch {
	case o.Perms:
		a.Mode = e.Mode & 0o7777
	case exists:
		a.Mode = st.Perm()
	default:
		a.Mode = e.Mode & 0o777 &^ umask()
	}
	if err := fsys.SetFileAttrs(tmp, a); err != nil {
		rs.Root.Remove(tmpName)
		return nil, fmt.Errorf("failed to set attributes on %q: %v", name, unwrapPathErr(err))
	}
	closed = true
	if err := rs.closeTemp(tmp); err != nil {
		rs.Root.Remove(tmpName)
		return exitcode.Errorf(exitcode.FileIO, "rsync: [receiver] close failed on %q: %s\n",
			filepath.Join(rs.Root.Path(), tmpName), errnoText(err)), nil
	}
	if err := rs.Root.Rename(tmpName, name); err != nil {
		rs.Root.Remove(tmpName)
		return nil, fmt.Errorf("rename %q -> %q: %v", tmpName, name, unwrapPathErr(err))
	}
	return nil, nil
}

// closeTemp closes a finished temporary file (through the test hook, when
// one is set).
func (rs *Receiving) closeTemp(f *os.File) error {
	if h := rs.Opts.Hooks.CloseTemp; h != nil {
		return h(f)
	}
	return f.Close()
}

// trackWriter remembers a write error, to tell a local disk failure from a
// broken stream.
type trackWriter struct {
	w   io.Writer
	err error
}

func (t *trackWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}

var cachedUmask = func() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}()

func umask() uint32 { return cachedUmask }
