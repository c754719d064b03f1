package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	"golang.org/x/sys/unix"
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

	// failed is set by any per-file error, on the receiver goroutine or
	// the finisher's.
	failed atomic.Bool
	inNdx  *wire.NdxCodec
	tokens delta.TokenReader
	// redo holds the files sent back for a redo, not yet received; the
	// finisher adds to it as it reports them.
	redoMu sync.Mutex
	redo   map[int32]*flist.Entry
	// fin puts received files in place (finish.go); sink is where the
	// file being received goes.
	fin  *finisher
	sink recvSink

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
	// batch is the generator's requests when applying a batch file.
	batch *batchGen
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
	rs.fin = newFinisher(rs, events, amServer)
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
	if rs.Opts.ReadBatch {
		// The generator asks the receiver, in plain integers.
		// rsync: io.c write_ndx (read_batch)
		g.outNdx = wire.NewNdxCodec(29)
		rs.batch = &batchGen{r: rs.Opts.BatchGen, next: -1}
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
			rs.fin.stop(true) // no file is made after this
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
	if g.failed || rs.failed.Load() {
		return exitcode.ErrPartial
	}
	return c.Result(0)
}

func (rs *Receiving) errorf(format string, args ...any) {
	rs.failed.Store(true)
	rs.Conn.XferError(fmt.Sprintf(format, args...))
}

// recvFiles is the receiver's loop. With incremental recursion the
// sender's echo of each NDX_DONE of the generator frees the oldest list,
// and only the last one ends the phase. Every file it receives it hands to
// the finisher (finish.go), which it waits for at each phase's end.
// rsync: receiver.c recv_files.
func (rs *Receiving) recvFiles(events *eventQueue, amServer bool) (err error) {
	defer func() {
		// A failed close stops the transfer, but the files before it
		// still go in place, as they had in rsync; any other failure
		// makes nothing more.
		rs.fin.stop(err != nil && err != rs.fin.failed())
		rs.Stats.LiteralData += rs.fin.literal.Load()
	}()
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
		if err := rs.fin.failed(); err != nil {
			return err
		}
		ndx, iflags, e, err := rs.readNdx()
		if err != nil {
			return err
		}
		if ndx == wire.NdxDone {
			if rs.batch != nil {
				// The generator's requests up to the list's end
				// that the batch did not answer are told of.
				// rsync: receiver.c recv_files (read_batch)
				if l := rs.segs.first(); l != nil {
					if _, err := rs.genWants(l.NdxStart+int32(len(l.Entries)), rs.listNum(l)); err != nil {
						return err
					}
				}
			}
			if rs.inc && rs.segs.first() != nil {
				// The generator closed the list: its files are
				// reported already.
				rs.segs.freeFirst()
				if rs.segs.first() != nil {
					continue
				}
			}
			// The generator's redo phase, its late deletions and its
			// directory fix-ups come after every file of this phase.
			if err := rs.fin.drain(); err != nil {
				return err
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
			countCreated(&rs.Stats, e, iflags)
			continue
		}
		// A file sent again comes once more for a redo; rsync counts
		// it once (the generator's redo is a second request).
		rs.redoMu.Lock()
		redoing := rs.redo[ndx] != nil || phase > 0
		rs.redoMu.Unlock()
		if !redoing {
			rs.Stats.XferredFiles++
			rs.Stats.TotalTransferredSize += e.Size
			if iflags&itemIsNew != 0 {
				rs.Stats.CreatedFiles++
			}
		}
		if rs.batch != nil {
			wanted := redoing
			if !redoing {
				l, _, err := rs.segs.find(ndx)
				if err != nil {
					return err
				}
				if wanted, err = rs.genWants(ndx, rs.listNum(l)); err != nil {
					return err
				}
			}
			if !wanted {
				// rsync: receiver.c recv_files (read_batch)
				c.Log.Info(fmt.Sprintf("(Skipping batched update for \"%s\")\n", e.Name()))
				if err := rs.discardData(rx, e); err != nil {
					return err
				}
				continue
			}
		}
		if rs.Opts.DryRun {
			if !amServer {
				c.logItem(rs.Opts, logged{e: e, iflags: iflags}, logClient)
			}
			// Data comes all the same when applying a batch, and to
			// a pulling client writing only a batch, whose sender
			// was not told. rsync: receiver.c recv_files
			if rs.batch != nil || rs.Opts.WriteBatch < 0 && !amServer {
				if err := rs.discardData(rx, e); err != nil {
					return err
				}
			}
			continue
		}
		if err := rs.receiveFile(rx, ndx, e, iflags, redoing, amServer); err != nil {
			return err
		}
	}
	for _, e := range rs.redo {
		// The sender never resent a file we asked for again.
		name := e.Name()
		if rs.LocalName != "" {
			name = rs.LocalName
		}
		rs.errorf("ERROR: %s failed verification -- update discarded.\n", name)
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
		if c.R.Buffered() == 0 && rs.fin != nil {
			rs.fin.kick()
		}
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
		rs.Conn.maybeLogItem(rs.Opts, logged{e: e, iflags: iflags})
	}
}

// receiveFile reconstructs one file and hands it to the finisher, which
// puts it in place: a small whole file (with fastio.Parallel) gathered in
// memory, anything else written here to a temporary file beside its
// destination. rsync: receiver.c receive_data and finish_transfer.
func (rs *Receiving) receiveFile(rx *delta.Receiver, ndx int32, e *flist.Entry, iflags uint32, redoing bool, amServer bool) error {
	c := rs.Conn
	item := logged{e: e, iflags: iflags, read: c.R.Consumed()}
	if rs.Opts.Out.Before && !amServer {
		c.logItem(rs.Opts, item, logClient)
	}
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
		return rs.receiveHanded(hf, ndx, item, name, redoing, amServer)
	}
	job := finishJob{ndx: ndx, e: e, name: name, redoing: redoing}
	var basis *os.File
	pre := ""
	if head.Count > 0 {
		basis, err = rs.Root.Open(name)
		if err != nil {
			pre = fmt.Sprintf("rsync: [receiver] failed to open %q: %v\n", name, unwrapPathErr(err))
		}
	}
	if pre != "" {
		// Told in its place among the files' outcomes.
		if err := rs.fin.submit(finishJob{ndx: -1, msg: pre, out: outFailed}); err != nil {
			return err
		}
	}
	s := &rs.sink
	s.start(rs, name, e.Size, head.Count == 0 && rs.fin.buffers(e.Size))
	bv := openBasis(rs.Opts.IO, basis)
	res, rerr := rx.Receive(c.R, rs.tokens, head, params, bv.reader(), s)
	if rerr == nil {
		rerr = s.flush()
	}
	bv.close()
	if basis != nil {
		basis.Close()
	}
	rs.Stats.LiteralData += res.Literal
	rs.Stats.MatchedData += res.Matched
	switch {
	case rerr != nil && !errors.Is(rerr, delta.ErrChecksumMismatch):
		s.discard()
		if s.out.err != nil {
			job.out, job.msg = outFailed, fmt.Sprintf("rsync: [receiver] write failed on %q: %v\n", name, unwrapPathErr(rerr))
			return rs.fin.submit(job)
		}
		return fmt.Errorf("receive %s: %w", name, streamErr(rerr))
	case s.mkErr != nil:
		// The data went nowhere, to keep the stream in step.
		job.out, job.msg = outFailed, fmt.Sprintf("rsync: [receiver] mkstemp %q failed: %v\n", name, unwrapPathErr(s.mkErr))
		s.discard()
		return rs.fin.submit(job)
	case rerr != nil:
		s.discard()
		job.out = outRedo
		return rs.fin.submit(job)
	}
	item.sum = rx.PeerSum()
	rs.received(ndx, item, amServer)
	if s.mem != nil {
		job.kind, job.buf, job.n = jobData, s.mem, s.n
	} else {
		job.kind, job.tmp, job.tmpName = jobTemp, s.tmp, s.tmpName
	}
	*s = recvSink{}
	return rs.fin.submit(job)
}

// received is what the receiver does for a file whose data arrived whole
// and verified, as it hands the file over: rsync's log_item after
// receive_data (the client's -v line), in stream order.
func (rs *Receiving) received(ndx int32, item logged, amServer bool) {
	rs.redoMu.Lock()
	delete(rs.redo, ndx)
	rs.redoMu.Unlock()
	if !amServer {
		c := rs.Conn
		item.read = c.R.Consumed() - item.read
		c.logItem(rs.Opts, item, rs.Opts.afterCode())
	}
}

// recvSink is where a received file's data goes: a pooled buffer while it
// fits one (a small whole file, for a worker to create), else a temporary
// file beside the destination, made when the first byte that does not
// fit comes (at once when nothing is gathered). If that file cannot be
// made the data is dropped (mkErr), so the stream stays in step.
type recvSink struct {
	rs   *Receiving
	name string
	size int64

	mem *fastio.Buffer
	n   int

	tmp     *os.File
	tmpName string
	out     trackWriter
	bw      *fastio.Writer
	mkErr   error
}

// start readies s for a file of size bytes named name, in memory if
// gather is set.
func (s *recvSink) start(rs *Receiving, name string, size int64, gather bool) {
	*s = recvSink{rs: rs, name: name, size: size}
	if gather {
		s.mem = fastio.GetBuffer(int(size))
		return
	}
	s.create()
}

// create makes the temporary file and moves what was gathered into it.
func (s *recvSink) create() {
	tmp, tmpName, err := s.rs.Root.CreateTemp(s.name)
	if err != nil {
		s.mkErr = err
		if s.mem != nil {
			fastio.PutBuffer(s.mem)
			s.mem = nil
		}
		return
	}
	s.tmp, s.tmpName = tmp, tmpName
	s.out = trackWriter{w: tmp}
	s.bw = s.rs.Opts.IO.GetWriter(&s.out, s.size)
	if s.mem != nil {
		s.bw.Write(s.mem.B[:s.n]) // a failure sticks to bw
		fastio.PutBuffer(s.mem)
		s.mem = nil
	}
}

// Write implements io.Writer.
func (s *recvSink) Write(p []byte) (int, error) {
	if s.mem != nil {
		if len(p) <= len(s.mem.B)-s.n {
			s.n += copy(s.mem.B[s.n:], p)
			return len(p), nil
		}
		// More than the file's listed size: it grew on the way.
		s.create()
	}
	if s.mkErr != nil {
		return len(p), nil
	}
	return s.bw.Write(p)
}

// flush writes out what the temporary file's writer holds.
func (s *recvSink) flush() error {
	if s.bw == nil {
		return nil
	}
	err := s.bw.Flush()
	fastio.PutWriter(s.bw)
	s.bw = nil
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// discard drops the file: its buffer, or its temporary file (removed).
func (s *recvSink) discard() {
	if s.bw != nil {
		fastio.PutWriter(s.bw)
		s.bw = nil
	}
	if s.mem != nil {
		fastio.PutBuffer(s.mem)
		s.mem = nil
	}
	if s.tmp != nil {
		s.tmp.Close()
		s.rs.Root.Remove(s.tmpName)
		s.tmp = nil
	}
}

// verificationFailed asks for file ndx again (in the redo phase, or with
// incremental recursion as soon as the generator can), or gives it up when
// it failed when redone; it reports whether the file went back. The
// finisher calls it, in stream order. rsync: receiver.c recv_files, the
// failed-verification case.
func (rs *Receiving) verificationFailed(ndx int32, e *flist.Entry, name string, redoing bool, events *eventQueue) bool {
	rs.redoMu.Lock()
	defer rs.redoMu.Unlock()
	if !redoing {
		if rs.Opts.Info.Name > 0 {
			rs.Conn.Log.Warning(fmt.Sprintf("WARNING: %s failed verification -- update discarded (will try again).\n", name))
		}
		if rs.redo == nil {
			rs.redo = make(map[int32]*flist.Entry)
		}
		rs.redo[ndx] = e
		events.push(genEvent{kind: evRedo, ndx: ndx})
		return true
	}
	delete(rs.redo, ndx)
	rs.errorf("ERROR: %s failed verification -- update discarded.\n", name)
	return false
}

// finish sets the temporary file's attributes, closes it and renames it
// into place. A failure of one file is err (the run goes on, exit 23). A
// failed close is fatal instead, as in rsync ("close failed on", exit 11):
// a disk that is full, or an NFS server that refuses the data, may say so
// only at close, and what it refused must not replace the file.
// stop, asked before the rename, says the transfer failed meanwhile: the
// file is then removed (errStopping). rsync: receiver.c recv_files,
// rsync.c finish_transfer
func (rs *Receiving) finish(tmp tempFile, name string, e *flist.Entry, stop func() bool) (fatal, err error) {
	closed := false
	defer func() {
		if !closed {
			tmp.close()
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
	if err := tmp.setAttrs(a); err != nil {
		rs.Root.Remove(tmp.name)
		return nil, fmt.Errorf("failed to set attributes on %q: %v", name, unwrapPathErr(err))
	}
	closed = true
	if err := rs.closeTemp(tmp); err != nil {
		rs.Root.Remove(tmp.name)
		return exitcode.Errorf(exitcode.FileIO, "rsync: [receiver] close failed on %q: %s\n",
			filepath.Join(rs.Root.Path(), tmp.name), errnoText(err)), nil
	}
	if stop != nil && stop() {
		rs.Root.Remove(tmp.name)
		return nil, errStopping
	}
	if err := rs.Root.Rename(tmp.name, name); err != nil {
		rs.Root.Remove(tmp.name)
		return nil, fmt.Errorf("rename %q -> %q: %v", tmp.name, name, unwrapPathErr(err))
	}
	return nil, nil
}

// tempFile is a temporary file to finish: the *os.File the receiver wrote
// it through, or (f nil) the bare descriptor a worker made it with.
type tempFile struct {
	f    *os.File
	fd   int
	name string // root-relative
}

func (t tempFile) setAttrs(a fsys.Attrs) error {
	if t.f != nil {
		return fsys.SetFileAttrs(t.f, a)
	}
	return fsys.SetFDAttrs(t.fd, t.name, a)
}

func (t tempFile) close() error {
	if t.f != nil {
		return t.f.Close()
	}
	// Never retried: Linux frees the descriptor even when close fails.
	if err := unix.Close(t.fd); err != nil {
		return &os.PathError{Op: "close", Path: t.name, Err: err}
	}
	return nil
}

// closeTemp closes a finished temporary file (through the test hook, when
// one is set).
func (rs *Receiving) closeTemp(t tempFile) error {
	h := rs.Opts.Hooks.CloseTemp
	if h == nil {
		return t.close()
	}
	if t.f == nil {
		t.f = os.NewFile(uintptr(t.fd), t.name)
	}
	return h(t.f)
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
