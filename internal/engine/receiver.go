package engine

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
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

	dryRunMissing bool // dry run into a destination directory that does not exist
	failed        bool
	inNdx         *wire.NdxCodec
}

// RecvFileList reads the sender's file list, its id lists and end marker,
// then sorts and cleans it. rsync: flist.c recv_file_list.
func (rs *Receiving) RecvFileList(fo *flist.Options) error {
	c := rs.Conn
	start := time.Now()
	before := c.BytesRead()
	dec := flist.NewDecoder(fo)
	var entries []*flist.Entry
	for {
		e, end, err := dec.ReadEntry(c.R)
		if err != nil {
			return fmt.Errorf("receive file list: %w", streamErr(err))
		}
		if end {
			break
		}
		entries = append(entries, e)
	}
	if !fo.IncRecurse() && (fo.PreserveUID || fo.PreserveGID) {
		if err := dec.ReadIDLists(c.R); err != nil {
			return fmt.Errorf("receive id lists: %w", streamErr(err))
		}
	}
	c.AddIOError(dec.IOError())
	if c.Session.Protocol < 30 {
		v, err := c.R.ReadInt()
		if err != nil {
			return fmt.Errorf("receive file list: %w", streamErr(err))
		}
		c.AddIOError(v)
	}
	if !rs.Opts.NumericIDs {
		dec.MapIDs(entries, fsys.MapUID, fsys.MapGID)
	}
	if rs.Opts.Group && !fsys.AmRoot() {
		for _, e := range entries {
			if !fsys.CanSetGroup(e.GID) {
				e.Flags |= flist.FlagSkipGroup
			}
		}
	}
	rs.List = flist.NewList(entries)
	rs.List.SortAndClean()
	rs.Stats.FlistSize = c.BytesRead() - before
	rs.Stats.FlistXferTime = time.Since(start).Milliseconds()
	rs.List.CountInto(&rs.Stats)
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
	}
	genErr := make(chan error, 1)
	go func() { genErr <- g.run() }()
	err := rs.recvFiles(events, amServer)
	close(events)
	gerr := <-genErr
	if err == nil && gerr != nil && gerr != errReceiverGone {
		err = gerr
	}
	if err != nil {
		return err
	}
	if g.failed || rs.failed {
		return ErrPartial
	}
	return ioErrorResult(c.IOError())
}

func (rs *Receiving) errorf(format string, args ...any) {
	rs.failed = true
	rs.Conn.Log.Error(fmt.Sprintf(format, args...))
}

// recvFiles is the receiver's loop. rsync: receiver.c recv_files.
func (rs *Receiving) recvFiles(events chan<- genEvent, amServer bool) error {
	c := rs.Conn
	proto := c.Session.Protocol
	rs.inNdx = wire.NewNdxCodec(proto)
	phase, maxPhase := 0, 1
	if proto >= 29 {
		maxPhase = 2
	}
	params := c.Session.XferParams()
	rx := delta.NewReceiver(params)
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
			rs.logItem(e, iflags, amServer)
			continue
		}
		if err := rs.receiveFile(rx, ndx, e, phase, events, amServer); err != nil {
			return err
		}
	}
	if !amServer {
		var peer Stats
		if err := readStats(c, &peer); err != nil {
			return fmt.Errorf("read stats: %w", err)
		}
		rs.Stats.TotalSize = peer.TotalSize
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
	if amServer || rs.Opts.Verbose == 0 {
		return
	}
	name := e.Name()
	if rs.LocalName != "" {
		name = rs.LocalName
	}
	if iflags&itemTransfer != 0 || (iflags&itemIsNew != 0 && (e.IsDir() || e.IsSymlink() || e.IsDevice() || e.IsSpecial())) || (iflags&itemLocalChange != 0) {
		switch {
		case e.IsDir():
			if e.Base == "." && e.Dir == "" {
				name = "./"
			} else {
				name += "/"
			}
		case e.IsSymlink():
			name += " -> " + e.LinkTarget
		}
		rs.Conn.Log.Info(name + "\n")
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
	head, err := delta.ReadSumHead(c.R, proto)
	if err != nil {
		return fmt.Errorf("receive %s: %w", name, streamErr(err))
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
		_, derr := rx.Receive(c.R, head, basis, discard{}, e.Size)
		if basis != nil {
			basis.Close()
		}
		if derr != nil && !errors.Is(derr, delta.ErrChecksumMismatch) {
			return fmt.Errorf("receive %s: %w", name, streamErr(derr))
		}
		return nil
	}
	res, rerr := rx.Receive(c.R, head, basis, tmp, e.Size)
	if basis != nil {
		basis.Close()
	}
	rs.Stats.LiteralData += res.Literal
	rs.Stats.MatchedData += res.Matched
	if rerr != nil && !errors.Is(rerr, delta.ErrChecksumMismatch) {
		tmp.Close()
		rs.Root.Remove(tmpName)
		if res.WriteErr {
			rs.errorf("rsync: [receiver] write failed on %q: %v\n", name, unwrapPathErr(rerr))
			return nil
		}
		return fmt.Errorf("receive %s: %w", name, streamErr(rerr))
	}
	if errors.Is(rerr, delta.ErrChecksumMismatch) {
		tmp.Close()
		rs.Root.Remove(tmpName)
		if phase == 0 {
			if rs.Opts.Verbose > 1 && !amServer {
				c.Log.Info(fmt.Sprintf("%s: WARNING: failed verification -- update retransmitted.\n", name))
			}
			events <- genEvent{redo: ndx}
		} else {
			rs.errorf("rsync: [receiver] ERROR: %s failed verification -- update discarded.\n", name)
		}
		return nil
	}
	if err := rs.finish(tmp, tmpName, name, e); err != nil {
		rs.errorf("rsync: [receiver] %v\n", err)
	}
	if rs.Opts.Verbose > 0 && !amServer {
		c.Log.Info(name + "\n")
	}
	return nil
}

// finish sets the temporary file's attributes and renames it into place.
func (rs *Receiving) finish(tmp *os.File, tmpName, name string, e *flist.Entry) error {
	defer tmp.Close()
	st, err := rs.Root.LstatT(name)
	exists := err == nil && st.IsRegular()
	var a fsys.Attrs
	o := rs.Opts
	if o.Owner && fsys.AmRoot() {
		a.Set |= fsys.SetUID | fsys.SetGID
		a.UID, a.GID = e.UID, uint32(os.Getegid())
	}
	if o.Group && e.Flags&flist.FlagSkipGroup == 0 {
		a.Set |= fsys.SetUID | fsys.SetGID
		a.GID = e.GID
		if o.Owner && fsys.AmRoot() {
			a.UID = e.UID
		} else {
			a.UID = uint32(os.Geteuid())
		}
	}
	if o.Times {
		a.Set |= fsys.SetMtime | fsys.SetAtime
		a.Mtime = time.Unix(e.Mtime, int64(e.MtimeNsec))
		a.Atime = time.Now()
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
		return fmt.Errorf("failed to set attributes on %q: %v", name, unwrapPathErr(err))
	}
	if err := rs.Root.Rename(tmpName, name); err != nil {
		rs.Root.Remove(tmpName)
		return fmt.Errorf("rename %q -> %q: %v", tmpName, name, unwrapPathErr(err))
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error)            { return len(p), nil }
func (discard) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

var cachedUmask = func() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}()

func umask() uint32 { return cachedUmask }
