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
	// CheckList, when set, vets each list that arrives once the first
	// one is in place (incremental recursion), as the caller vetted that
	// one: a receiving client's refusal of names it did not ask for.
	CheckList func(l *flist.List) error

	failed bool
	inNdx  *wire.NdxCodec
	tokens delta.TokenReader
	// redo holds the files sent back for a redo, not yet received.
	redo map[int32]*flist.Entry
	// redoQueued says the file just received went back for a redo.
	redoQueued bool

	// The lists as they arrive: with incremental recursion the first
	// list, then one per directory, decoded by one Decoder (its state
	// runs on from list to list) and shared with the generator, each
	// freed when the sender has seen the generator's NDX_DONE for it
	// (segments.go). gotList marks the directories of segs.dirs whose list
	// has come (rsync's FLAG_GOT_DIR_FLIST).
	inc     bool
	dec     *flist.Decoder
	segs    *segments
	gotList []bool
	events  *eventQueue
}

// maxLiveEntries bounds the entries of the lists a receiver holds at once:
// a sender that sends lists without ever freeing them cannot make it
// allocate without end.
const maxLiveEntries = 1 << 26

// RecvFileList reads the sender's first file list, its id lists and end
// marker, then sorts and cleans it. rsync: flist.c recv_file_list.
func (rs *Receiving) RecvFileList(fo *flist.Options) error {
	c := rs.Conn
	start := time.Now()
	before := c.BytesRead()
	dec, err := flist.NewDecoder(*fo)
	if err != nil {
		return err
	}
	rs.dec, rs.inc = dec, fo.IncRecurse()
	// The index codec's state runs on from the lists' headers to the
	// transfer, so the one reading the lists is the receiver's.
	rs.inNdx = wire.NewNdxCodec(c.Session.Protocol)
	list, err := dec.ReadList(c.R)
	if err != nil {
		return fmt.Errorf("receive file list: %w", streamErr(err))
	}
	c.AddIOError(list.IOError)
	rs.mapIDs(list)
	rs.List = list
	rs.segs = newSegments(rs.inc)
	rs.segs.add(list)
	rs.gotList = make([]bool, len(rs.segs.dirs))
	rs.Stats.FlistSize = c.BytesRead() - before
	rs.Stats.FlistXferTime = time.Since(start).Milliseconds()
	CountList(rs.List, &rs.Stats)
	return nil
}

// mapIDs gives a received list's entries the local ids of the sender's
// user and group names, and marks the groups this side cannot set.
func (rs *Receiving) mapIDs(list *flist.List) {
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
}

// RecvAdditionalFileList reads, with incremental recursion, the list (or
// the end of the lists) that follows a first list of exactly one entry:
// the destination's name depends on whether more than one entry comes.
// The first list must be in its final form (vetted, its --relative names
// stripped). rsync: flist.c recv_additional_file_list
func (rs *Receiving) RecvAdditionalFileList() error {
	if !rs.inc || rs.segs.total != 1 {
		return nil
	}
	ndx, err := rs.inNdx.Read(rs.Conn.R)
	if err != nil {
		return fmt.Errorf("receive file list: %w", streamErr(err))
	}
	if ndx == wire.NdxFlistEOF {
		rs.segs.eof = true
		return nil
	}
	return rs.recvSegment(ndx, "Receiver")
}

// FileTotal is the number of entries received so far that the
// destination's name is decided by: the active entries of the list, or,
// with incremental recursion, every entry of the lists held (rsync's
// file_total).
func (rs *Receiving) FileTotal() int {
	if rs.inc {
		return rs.segs.total
	}
	n := 0
	for _, e := range rs.List.Entries {
		if e.Active() {
			n++
		}
	}
	return n
}

// recvSegment reads the list whose header, NDX_FLIST_OFFSET - dir_ndx, was
// hdr: the entries of directory dir_ndx, which must be a directory the
// lists so far hold whose list has not come yet. The list then joins the
// held ones and goes to the generator. who names this side in messages.
// rsync: rsync.c read_ndx_and_attrs, flist.c recv_file_list
func (rs *Receiving) recvSegment(hdr int32, who string) error {
	c, s := rs.Conn, rs.segs
	dirNdx := wire.NdxFlistStart - hdr
	if dirNdx < 0 || int(dirNdx) >= len(s.dirs) {
		return fmt.Errorf("Invalid dir index: %d (%d - %d) [%s]: %w", hdr, wire.NdxFlistStart, wire.NdxFlistStart-int32(len(s.dirs))+1, who, wire.ErrIncompatible)
	}
	d := s.dirs[dirNdx]
	switch {
	case s.first() == nil:
		return fmt.Errorf("rsync: refusing sub-flist after final flist was freed: %w", wire.ErrIncompatible)
	case !d.Active():
		return fmt.Errorf("rsync: refusing flist for cleared dir_ndx %d: %w", dirNdx, wire.ErrIncompatible)
	case rs.gotList[dirNdx]:
		return fmt.Errorf("rsync: refusing malicious duplicate flist for dir %d: %w", dirNdx, wire.ErrIncompatible)
	case s.eof:
		// rsync takes it, but its generator may be past its lists by
		// then and never generate this one.
		return fmt.Errorf("rsync: refusing flist for dir %d after the last one: %w", dirNdx, wire.ErrIncompatible)
	case s.total >= maxLiveEntries:
		return fmt.Errorf("file lists hold more than %d entries: %w", maxLiveEntries, wire.ErrProtocol)
	}
	rs.gotList[dirNdx] = true
	before := c.BytesRead()
	l, err := rs.dec.ReadSegment(c.R, s.next, d.Name())
	if err != nil {
		var ee *exitcode.Error
		if errors.As(err, &ee) {
			return ee
		}
		return fmt.Errorf("receive file list of %s: %w", d.Name(), streamErr(err))
	}
	l.ParentNdx = dirNdx
	c.AddIOError(l.IOError)
	rs.mapIDs(l)
	if rs.CheckList != nil {
		if err := rs.CheckList(l); err != nil {
			return err
		}
	}
	if rs.Opts.Relative {
		l.StripRoot()
	}
	first := s.add(l)
	rs.gotList = append(rs.gotList, make([]bool, len(s.dirs)-first)...)
	rs.Stats.FlistSize += c.BytesRead() - before
	CountList(l, &rs.Stats)
	if rs.events != nil {
		rs.events.push(genEvent{kind: evSegment, list: l, dir: d})
	}
	return nil
}

// listDir is the directory whose entries list l holds (its gap index
// names it), nil for none.
func (rs *Receiving) listDir(l *flist.List) *flist.Entry {
	if !rs.inc || l.ParentNdx < 0 || int(l.ParentNdx) >= len(rs.segs.dirs) {
		return nil
	}
	return rs.segs.dirs[l.ParentNdx]
}

// Run transfers everything in the list: the generator goroutine requests
// files while this goroutine receives them. rsync: main.c do_recv,
// receiver.c recv_files.
func (rs *Receiving) Run(amServer bool) error {
	c := rs.Conn
	events := newEventQueue()
	rs.events = events
	g := &generator{
		rs: rs, c: c, opts: rs.Opts, root: rs.Root, list: rs.List,
		outNdx: wire.NewNdxCodec(c.Session.Protocol), events: events, stats: &rs.Stats,
		dfltPerms: 0o777 &^ umask(),
		fileSum:   checksum.NewFileHasher(c.Session.FileParams()),
		block:     checksum.NewBlockHasher(c.Session.XferParams()),
		amServer:  amServer,
		inc:       rs.inc,
	}
	if rs.inc {
		// The lists read so far; the receiver passes on the rest.
		for _, l := range rs.segs.live {
			g.live = append(g.live, &genSeg{list: l, dir: rs.listDir(l)})
		}
		g.eof = rs.segs.eof
		// A file the sender cannot send is done with as well: its
		// list may be closed. rsync: io.c read_a_msg (MSG_NO_SEND)
		c.OnNoSend = func(ndx int32) { events.push(genEvent{kind: evDone, ndx: ndx}) }
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
		events.close()
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
		events.close()
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

// recvFiles is the receiver's loop. With incremental recursion the
// sender's echo of each NDX_DONE of the generator frees the oldest list,
// and only the last one ends the phase. rsync: receiver.c recv_files.
func (rs *Receiving) recvFiles(events *eventQueue, amServer bool) error {
	c := rs.Conn
	proto := c.Session.Protocol
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
		ndx, iflags, e, err := rs.readNdx()
		if err != nil {
			return err
		}
		if ndx == wire.NdxDone {
			if rs.inc && rs.segs.first() != nil {
				rs.segs.freeFirst()
				if rs.segs.first() != nil {
					continue
				}
			}
			phase++
			if phase > maxPhase {
				break
			}
			events.push(genEvent{kind: evPhase})
			continue
		}
		if iflags&itemTransfer == 0 {
			rs.logItem(e, iflags, amServer)
			continue
		}
		// A file sent again comes once more for a redo; rsync counts
		// it once (the generator's redo is a second request).
		redoing := rs.redo[ndx] != nil || phase > 0
		if !redoing {
			rs.Stats.XferredFiles++
			rs.Stats.TotalTransferredSize += e.Size
		}
		if rs.Opts.DryRun {
			if !amServer && rs.Opts.Verbose > 0 {
				c.Log.Info(itemName(e, "") + "\n") // the list's name, as rsync logs it
			}
			continue
		}
		rs.redoQueued = false
		if err := rs.receiveFile(rx, ndx, e, redoing, events, amServer); err != nil {
			return err
		}
		if rs.inc && !rs.redoQueued {
			// Done with, well or not: its list may be closed.
			// rsync: receiver.c recv_files (MSG_SUCCESS, MSG_NO_SEND)
			events.push(genEvent{kind: evDone, ndx: ndx})
		}
	}
	for _, e := range rs.redo {
		// The sender never resent a file we asked for again.
		rs.errorf("ERROR: %s failed verification -- update discarded.\n", itemName(e, rs.LocalName))
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
	events.push(genEvent{kind: evPhase})
	if proto >= 31 {
		ndx, _, _, err := rs.readNdx()
		if err != nil {
			return err
		}
		if ndx != wire.NdxDone {
			return fmt.Errorf("invalid packet at end of run (%d) [receiver]: %w", ndx, wire.ErrProtocol)
		}
		events.push(genEvent{kind: evPhase})
	}
	return nil
}

// readNdx reads the sender's next file index, the entry it names and, from
// protocol 29, its item flags and optional basis type and name. With
// incremental recursion the lists' headers, their entries and
// NDX_FLIST_EOF come on the way and are taken here; NDX_DEL_STATS too.
// A list's gap index names its directory. rsync: rsync.c
// read_ndx_and_attrs, flist_for_ndx
func (rs *Receiving) readNdx() (ndx int32, iflags uint32, e *flist.Entry, err error) {
	c := rs.Conn
	for {
		ndx, err = rs.inNdx.Read(c.R)
		if err != nil {
			return 0, 0, nil, streamErr(err)
		}
		switch {
		case ndx >= 0 || ndx == wire.NdxDone:
		case ndx == wire.NdxDelStats:
			var st Stats
			if err := readDelStats(c, &st); err != nil {
				return 0, 0, nil, err
			}
			if c.OnDelStats != nil {
				c.OnDelStats(&st)
			}
			continue
		case !rs.inc:
			last := int32(-1)
			if l := rs.segs.last(); l != nil {
				last = l.NdxStart + int32(len(l.Entries)) - 1
			}
			return 0, 0, nil, fmt.Errorf("Invalid file index: %d (%d - %d) [receiver]: %w", ndx, wire.NdxDone, last, wire.ErrIncompatible)
		case ndx == wire.NdxFlistEOF:
			if !rs.segs.eof {
				rs.segs.eof = true
				rs.events.push(genEvent{kind: evEOF})
			}
			continue
		default:
			if err := rs.recvSegment(ndx, "receiver"); err != nil {
				return 0, 0, nil, err
			}
			continue
		}
		break
	}
	if ndx == wire.NdxDone {
		return ndx, 0, nil, nil
	}
	l, e, err := rs.segs.find(ndx)
	if err != nil {
		return 0, 0, nil, err
	}
	if c.Session.Protocol >= 29 {
		v, err := c.R.ReadShortint()
		if err != nil {
			return 0, 0, nil, streamErr(err)
		}
		iflags = uint32(v)
	} else {
		iflags = itemTransfer | itemMissingData
	}
	if iflags&itemBasisTypeFollows != 0 {
		if _, err := c.R.ReadByte(); err != nil {
			return 0, 0, nil, streamErr(err)
		}
	}
	if iflags&itemXnameFollows != 0 {
		if _, err := c.R.ReadVstring(flist.MaxPath); err != nil {
			return 0, 0, nil, streamErr(err)
		}
	}
	if !e.Active() {
		return 0, 0, nil, fmt.Errorf("refusing transfer of cleared file index %d: %w", ndx, wire.ErrIncompatible)
	}
	if iflags&itemTransfer != 0 && (ndx < l.NdxStart || !e.IsRegular()) {
		return 0, 0, nil, fmt.Errorf("received request to transfer non-regular file: %d [receiver]: %w", ndx, wire.ErrIncompatible)
	}
	return ndx, iflags, e, nil
}

func (rs *Receiving) logItem(e *flist.Entry, iflags uint32, amServer bool) {
	if !amServer {
		logUntransferred(rs.Conn.Log, rs.Opts, e, rs.LocalName, iflags)
	}
}

// receiveFile reconstructs one file into a temporary file beside its
// destination and renames it into place. rsync: receiver.c receive_data and
// finish_transfer.
func (rs *Receiving) receiveFile(rx *delta.Receiver, ndx int32, e *flist.Entry, redoing bool, events *eventQueue, amServer bool) error {
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
		return rs.receiveHanded(hf, ndx, e, name, redoing, events, amServer)
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
		rs.verificationFailed(ndx, e, name, redoing, events)
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

// verificationFailed asks for file ndx again (in the redo phase, or with
// incremental recursion as soon as the generator can), or gives it up when
// it failed when redone. rsync: receiver.c recv_files, the
// failed-verification case.
func (rs *Receiving) verificationFailed(ndx int32, e *flist.Entry, name string, redoing bool, events *eventQueue) {
	if !redoing {
		if rs.Opts.Verbose > 0 {
			rs.Conn.Log.Warning(fmt.Sprintf("WARNING: %s failed verification -- update discarded (will try again).\n", name))
		}
		if rs.redo == nil {
			rs.redo = make(map[int32]*flist.Entry)
		}
		rs.redo[ndx] = e
		rs.redoQueued = true
		events.push(genEvent{kind: evRedo, ndx: ndx})
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
