package engine

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/wire"
)

// Sender is the role that owns the source files: it sends the file list,
// then answers the generator's requests with deltas. rsync: sender.c.
//
// With incremental recursion the list goes in parts (see segments): the
// first list, then each directory's list as Walk makes it, sent ahead of
// the generator's requests by at least minLookahead entries after every
// request and, while no request is waiting, by up to maxLookahead; each
// list is forgotten at the generator's NDX_DONE for it, its directories
// kept. Without it the one list is the case of a single list, from 0.
type Sender struct {
	Conn *Conn
	Opts *Options
	// List is the whole list, or with incremental recursion the first.
	List  *flist.List
	Stats Stats

	// Open opens a list entry's source file for reading.
	Open func(e *flist.Entry) (*os.File, error)
	// Walk makes the lists after the first under incremental recursion.
	Walk SegmentWalk

	ioError int32
	inNdx   *wire.NdxCodec
	outNdx  *wire.NdxCodec

	enc  *flist.Encoder // every list's: entries compress against the previous one sent
	segs *segments
	eof  bool // no list follows (NDX_FLIST_EOF is out)
	// curStart is where the list of the generator's latest request
	// starts (or the oldest live list, once that one is gone), and
	// oldTotal counts the entries of the live lists up to it: the
	// generator is at least there, and the entries beyond it are the
	// sender's lead. rsync: flist.c file_old_total
	curStart int32
	oldTotal int
	// sent marks, per live list, the files whose data has gone once.
	sent map[*flist.List][]bool
}

// SegmentWalk makes the lists that follow the first one under incremental
// recursion, on demand (flist.IncWalk).
type SegmentWalk interface {
	// Next returns the next directory's list, in sending order, with
	// ParentNdx the directory's index, and the directory's entry; nil at
	// the end.
	Next() (*flist.List, *flist.Entry, error)
	// Done reports whether no list is left.
	Done() bool
}

// How far the sender's lists run ahead of the generator's requests, in
// entries: at least minLookahead after every request, and up to
// maxLookahead while none waits, to keep a receiver across a slow link
// busy. rsync: rsync.h MIN_FILECNT_LOOKAHEAD, MAX_FILECNT_LOOKAHEAD
const (
	minLookahead = 1000
	maxLookahead = 10000
	// localLookahead is the most a local copy's sender runs ahead: its
	// receiver is in this process, no link latency is hidden by more,
	// and each entry ahead is held on both sides (a million-file dry
	// run: 24 MB peak RSS instead of 29 MB, and less CPU).
	localLookahead = 2000
)

// maxAhead is the sender's most lead: less in a local copy.
func (s *Sender) maxAhead() int {
	if s.Opts.Select.LocalServer {
		return localLookahead
	}
	return maxLookahead
}

// SendFileList transmits the list (already sorted by the caller for indexes,
// but sent in walk order is not required: rsync sorts on both sides).
// rsync: flist.c send_file_list.
func (s *Sender) SendFileList(fo *flist.Options, ioError int32) error {
	ls, err := s.StartFileList(fo)
	if err != nil {
		return err
	}
	for _, e := range s.List.Entries {
		if err := ls.Add(e); err != nil {
			return err
		}
	}
	return ls.End(ioError)
}

// ListSender sends a file list entry by entry, so that the walk can hand
// over each entry as it makes it and the peer decodes while the walk goes
// on, as rsync's send_file_name writes each entry at once.
type ListSender struct {
	s      *Sender
	enc    *flist.Encoder
	before int64
}

// StartFileList begins the file list: Add its entries in walk order, then
// End it.
func (s *Sender) StartFileList(fo *flist.Options) (*ListSender, error) {
	enc, err := flist.NewEncoder(*fo, &flist.SystemNames{})
	if err != nil {
		return nil, err
	}
	s.enc = enc
	s.segs = newSegments(fo.IncRecurse())
	s.codecs()
	enc.StartList(s.segs.next)
	return &ListSender{s: s, enc: enc, before: s.Conn.BytesWritten()}, nil
}

// codecs makes the index codecs, once.
func (s *Sender) codecs() {
	if s.inNdx == nil {
		proto := s.Conn.Session.Protocol
		s.inNdx, s.outNdx = wire.NewNdxCodec(proto), wire.NewNdxCodec(proto)
	}
}

// ListSent takes the first list, sent and sorted, as the one the
// generator's indexes start with. Under incremental recursion it then
// sends what rsync sends at once: NDX_FLIST_EOF when no directory has a
// list to follow, and when the first list holds a single entry, lists
// until one has entries (or the end), for the receiver to tell a
// one-file transfer from a directory's. rsync: flist.c send_file_list
func (s *Sender) ListSent(l *flist.List) error {
	if s.segs == nil {
		s.segs = newSegments(false)
	}
	s.codecs()
	s.List = l
	s.segs.add(l)
	s.curStart, s.oldTotal = l.NdxStart, len(l.Entries)
	s.sent = map[*flist.List][]bool{}
	if !s.segs.inc {
		s.eof = true
		return nil
	}
	switch {
	case s.Walk == nil || s.Walk.Done():
		s.endLists()
	case len(l.Entries) == 1:
		if err := s.sendLists(1); err != nil {
			return err
		}
	default:
		return nil
	}
	if err := s.Conn.W.Flush(); err != nil {
		return fmt.Errorf("send file list: %w", err)
	}
	return nil
}

// endLists says that no list follows: the list is complete.
// rsync: flist.c send_extra_file_list
func (s *Sender) endLists() {
	s.outNdx.Write(s.Conn.W, wire.NdxFlistEOF)
	s.eof = true
	if s.Opts.Hooks.Listed != nil {
		s.Opts.Hooks.Listed()
	}
}

// lookahead is how many entries the live lists hold beyond the one the
// generator is known to be at.
func (s *Sender) lookahead() int { return s.segs.total - s.oldTotal }

// sendLists sends directories' lists until the lead is at least atLeast
// entries (one more list when atLeast < 0), or none is left. Each list
// is its directory's index (NDX_FLIST_OFFSET - index), its entries and
// its end; the end carries the I/O error bits so far once this call has
// added any, as rsync's does. rsync: flist.c send_extra_file_list
func (s *Sender) sendLists(atLeast int) error {
	if s.eof {
		return nil
	}
	c := s.Conn
	if atLeast < 0 {
		atLeast = s.lookahead() + 1
	}
	saved := s.ioError
	for s.lookahead() < atLeast {
		l, dir, err := s.Walk.Next()
		if err != nil {
			return err
		}
		if l == nil {
			s.endLists()
			break
		}
		// The walk and the receiver number the directories alike.
		if d, err := s.segs.dir(l.ParentNdx); err != nil || d != dir {
			return fmt.Errorf("list for %s: directory index %d out of step", dir.Name(), l.ParentNdx)
		}
		before := c.BytesWritten() + int64(c.W.Buffered())
		s.outNdx.Write(c.W, wire.NdxFlistStart-l.ParentNdx)
		s.enc.StartList(s.segs.next)
		for _, e := range l.Entries {
			if err := s.enc.WriteEntry(c.W, e); err != nil {
				return entryErr(e, err)
			}
		}
		s.ioError |= l.IOError
		var ioErr int32
		if s.ioError != saved && !s.Opts.IgnoreErrors {
			if !s.enc.SafeFlist() && (s.Opts.Delete == DeleteDuring || s.Opts.Delete == DeleteDelay || s.Opts.Delete == DeleteAuto) {
				// rsync: flist.c fatal_unsafe_io_error
				return &exitcode.Error{Code: exitcode.Unsupported, Msg: "FATAL I/O ERROR: dying to avoid a --delete-during issue with a pre-3.0.7 receiver."}
			}
			ioErr = s.ioError
		}
		s.enc.WriteEnd(c.W, ioErr)
		if err := c.W.Err(); err != nil {
			return fmt.Errorf("send file list: %w", err)
		}
		l.SortAndClean(c.Session.Protocol, false)
		s.segs.add(l)
		CountList(l, &s.Stats)
		s.Stats.FlistSize += c.BytesWritten() + int64(c.W.Buffered()) - before
	}
	if s.ioError != saved && c.Session.Protocol == 30 && !s.Opts.IgnoreErrors {
		return c.SendMsgInt(wire.MsgIOError, s.ioError)
	}
	return nil
}

// feed keeps the generator supplied with lists before the sender reads
// its next request: the least lead, and while no request is buffered
// more, up to the most, flushed as they go. rsync has its poll time out
// for this (io.c perform_io, extra_flist_sending_enabled); here the test
// is whether input is buffered.
func (s *Sender) feed() error {
	c := s.Conn
	if err := s.sendLists(minLookahead); err != nil {
		return err
	}
	for !s.eof && c.R.Buffered() == 0 && s.lookahead() < s.maxAhead() {
		if err := s.sendLists(-1); err != nil {
			return err
		}
		if c.W.Buffered() >= 32<<10 {
			if err := c.W.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// at notes that the generator's request named an index in list l: it is
// at least there. rsync: rsync.c read_ndx_and_attrs (file_old_total)
func (s *Sender) at(l *flist.List) {
	if l.NdxStart == s.curStart {
		return
	}
	s.curStart = l.NdxStart
	s.oldTotal = 0
	for _, ll := range s.segs.live {
		if ll.NdxStart > s.curStart {
			break
		}
		s.oldTotal += len(ll.Entries)
	}
}

// listDone forgets the oldest list, which the generator is done with,
// and reports whether a list is still live. rsync: sender.c send_files
// (flist_free)
func (s *Sender) listDone() bool {
	f := s.segs.freeFirst()
	delete(s.sent, f)
	next := s.segs.first()
	switch {
	case f.NdxStart < s.curStart:
		s.oldTotal -= len(f.Entries)
	case next != nil:
		// The generator is past the list it last named.
		s.curStart, s.oldTotal = next.NdxStart, len(next.Entries)
	default:
		s.oldTotal = 0
	}
	return next != nil
}

// markSent records that entry ndx of l has been sent; wasSent tells.
func (s *Sender) markSent(l *flist.List, ndx int32) {
	m := s.sent[l]
	if m == nil {
		m = make([]bool, len(l.Entries))
		s.sent[l] = m
	}
	m[ndx-l.NdxStart] = true
}

func (s *Sender) wasSent(l *flist.List, ndx int32) bool {
	m := s.sent[l]
	return m != nil && m[ndx-l.NdxStart]
}

// FileEntry returns the live file entry at index ndx: not a list's
// directory (its gap index), nor one in a list already done.
// rsync: sender.c successful_send (flist_for_ndx)
func (s *Sender) FileEntry(ndx int32) (*flist.Entry, error) {
	l, e, err := s.segs.find(ndx)
	if err == nil && ndx < l.NdxStart {
		err = fmt.Errorf("index %d names a directory: %w", ndx, wire.ErrIncompatible)
	}
	return e, err
}

// Add writes one entry of the list.
func (ls *ListSender) Add(e *flist.Entry) error {
	if err := ls.enc.WriteEntry(ls.s.Conn.W, e); err != nil {
		return entryErr(e, err)
	}
	return nil
}

// entryErr gives a failed entry's error its name, except for an error that
// carries rsync's own message and code (--max-alloc's), which is printed
// as it is.
func entryErr(e *flist.Entry, err error) error {
	var ee *exitcode.Error
	if errors.As(err, &ee) {
		return err
	}
	return fmt.Errorf("send file entry %s: %w", e.Name(), err)
}

// End writes the end of the list and flushes it; the time it takes is the
// list's transfer time. rsync: flist.c send_file_list (flist_xfertime).
func (ls *ListSender) End(ioError int32) error {
	s, c := ls.s, ls.s.Conn
	start := time.Now()
	needMsg, err := ls.enc.WriteListEnd(c.W, ioError)
	if err != nil {
		return fmt.Errorf("send file list: %w", err)
	}
	// rsync counts what has reached the wire by now, before the final flush.
	s.Stats.FlistSize = c.BytesWritten() - ls.before
	if needMsg {
		if err := c.SendMsgInt(wire.MsgIOError, ioError); err != nil {
			return err
		}
	}
	if err := c.W.Flush(); err != nil {
		return fmt.Errorf("send file list: %w", err)
	}
	s.ioError |= ioError
	s.Stats.FlistXferTime = time.Since(start).Milliseconds()
	return nil
}

// readNdxAndAttrs reads a file index and, from protocol 29, its item flags
// and optional basis type and name. rsync: rsync.c read_ndx_and_attrs.
func readNdxAndAttrs(c *Conn, codec *wire.NdxCodec, list *flist.List, amSender bool) (ndx int32, iflags uint32, err error) {
	last := func() int32 { return int32(len(list.Entries) - 1) }
	if ndx, err = readNdx(c, codec, last); err != nil || ndx == wire.NdxDone {
		return ndx, 0, err
	}
	if int(ndx) >= len(list.Entries) {
		return 0, 0, fmt.Errorf("invalid file index: %d (%d - %d): %w", ndx, wire.NdxDone, last(), wire.ErrIncompatible)
	}
	if iflags, err = readItemAttrs(c); err != nil {
		return 0, 0, err
	}
	if err := checkRequest(list.Entries[ndx], ndx, iflags); err != nil {
		return 0, 0, err
	}
	return ndx, iflags, nil
}

// readNdx reads the next file index or NDX_DONE, handling NDX_DEL_STATS
// on the way; any other negative index is an error naming the last valid
// one. rsync: rsync.c read_ndx_and_attrs
func readNdx(c *Conn, codec *wire.NdxCodec, last func() int32) (int32, error) {
	for {
		ndx, err := codec.Read(c.R)
		if err != nil {
			return 0, streamErr(err)
		}
		if ndx >= 0 || ndx == wire.NdxDone {
			return ndx, nil
		}
		if ndx != wire.NdxDelStats {
			return 0, fmt.Errorf("invalid file index: %d (%d - %d): %w", ndx, wire.NdxDone, last(), wire.ErrIncompatible)
		}
		var st Stats
		if err := readDelStats(c, &st); err != nil {
			return 0, err
		}
		if c.OnDelStats != nil {
			c.OnDelStats(&st)
		}
	}
}

// readItemAttrs reads what follows a request's index: from protocol 29 its
// item flags, then the basis type and alternate name they announce.
func readItemAttrs(c *Conn) (iflags uint32, err error) {
	if c.Session.Protocol >= 29 {
		v, err := c.R.ReadShortint()
		if err != nil {
			return 0, streamErr(err)
		}
		iflags = uint32(v)
	} else {
		iflags = itemTransfer | itemMissingData
	}
	if iflags&itemBasisTypeFollows != 0 {
		if _, err := c.R.ReadByte(); err != nil {
			return 0, streamErr(err)
		}
	}
	if iflags&itemXnameFollows != 0 {
		if _, err := c.R.ReadVstring(flist.MaxPath); err != nil {
			return 0, streamErr(err)
		}
	}
	return iflags, nil
}

// checkRequest refuses a request for a cleared entry, or for the data of
// one that is not a regular file.
func checkRequest(e *flist.Entry, ndx int32, iflags uint32) error {
	if !e.Active() {
		return fmt.Errorf("refusing transfer of cleared file index %d: %w", ndx, wire.ErrIncompatible)
	}
	if iflags&itemTransfer != 0 && !e.IsRegular() {
		return fmt.Errorf("received request to transfer non-regular file: %d: %w", ndx, wire.ErrIncompatible)
	}
	return nil
}

// readRequest reads the generator's next request: NDX_DONE, or an index,
// its attributes, and the entry and live list it names (a list's gap
// index names its directory). rsync: rsync.c read_ndx_and_attrs,
// flist_for_ndx
func (s *Sender) readRequest() (ndx int32, iflags uint32, e *flist.Entry, l *flist.List, err error) {
	if !s.segs.inc {
		ndx, iflags, err = readNdxAndAttrs(s.Conn, s.inNdx, s.List, true)
		if err != nil || ndx < 0 {
			return ndx, 0, nil, nil, err
		}
		return ndx, iflags, s.List.Entries[ndx], s.List, nil
	}
	last := func() int32 {
		if l := s.segs.last(); l != nil {
			return l.NdxStart + int32(len(l.Entries)) - 1
		}
		return -1
	}
	if ndx, err = readNdx(s.Conn, s.inNdx, last); err != nil || ndx == wire.NdxDone {
		return ndx, 0, nil, nil, err
	}
	if l, e, err = s.segs.find(ndx); err != nil {
		return 0, 0, nil, nil, err
	}
	if iflags, err = readItemAttrs(s.Conn); err != nil {
		return 0, 0, nil, nil, err
	}
	if err := checkRequest(e, ndx, iflags); err != nil {
		return 0, 0, nil, nil, err
	}
	return ndx, iflags, e, l, nil
}

// writeNdxAndAttrs sends a file index and, from protocol 29, its item flags.
func writeNdxAndAttrs(c *Conn, codec *wire.NdxCodec, ndx int32, iflags uint32) {
	codec.Write(c.W, ndx)
	if c.Session.Protocol >= 29 {
		c.W.WriteShortint(uint16(iflags))
	}
}

// Run answers the generator until the end of the transfer. rsync: sender.c
// send_files, then main.c handle_stats and read_final_goodbye.
func (s *Sender) Run(amServer bool) error {
	c := s.Conn
	proto := c.Session.Protocol
	if s.segs == nil {
		if err := s.ListSent(s.List); err != nil {
			return err
		}
	}
	inc := s.segs.inc
	phase, maxPhase := 0, 1
	if proto >= 29 {
		maxPhase = 2
	}
	// The receiver's deletion counts: a server sender passes them on to
	// the client. rsync: rsync.c read_ndx_and_attrs (NDX_DEL_STATS)
	c.OnDelStats = func(st *Stats) {
		s.Stats.DeletedFiles, s.Stats.DeletedDirs = st.DeletedFiles, st.DeletedDirs
		s.Stats.DeletedSymlinks, s.Stats.DeletedDevices, s.Stats.DeletedSpecials = st.DeletedSymlinks, st.DeletedDevices, st.DeletedSpecials
		if amServer {
			writeDelStats(c, s.outNdx, st)
		}
	}
	params := c.Session.XferParams()
	m := delta.NewMatcher(params, false)
	comp, level := c.compression(s.Opts)
	tw := delta.NewTokenWriter(c.W, comp, level, proto)
	var serialSums delta.Sums
	ahead := s.startAhead(m, tw, amServer)
	defer ahead.stop()
	for {
		if err := ahead.emitReady(); err != nil {
			return err
		}
		if inc {
			if err := s.feed(); err != nil && c.W.Err() == nil {
				return err
			}
		}
		// Before a read that may wait, what is written goes out: the
		// generator may be waiting for the receiver to have a file (a
		// list under incremental recursion, or, with
		// --remove-source-files, its files in flight: rsync's
		// increment_active_files), as rsync's perform_io writes while it
		// waits to read. A failed write is reported after the read: a
		// peer that stopped says why first (MSG_ERROR_EXIT), as rsync
		// reads its input while it writes.
		writeErr := c.W.Err()
		if writeErr == nil && c.R.Buffered() == 0 {
			writeErr = c.W.Flush()
		}
		ndx, iflags, e, l, err := s.readRequest()
		if err != nil {
			return err
		}
		if writeErr != nil {
			return writeErr
		}
		if ndx < 0 || iflags&itemTransfer == 0 {
			// What goes out now follows the files in flight.
			if err := ahead.drain(); err != nil {
				return err
			}
		}
		if ndx == wire.NdxDone {
			// Under incremental recursion each list but the last ends
			// with an NDX_DONE of its own, which is echoed; the last
			// one's ends phase 0. rsync: sender.c send_files
			if inc && s.segs.first() != nil && s.listDone() {
				s.outNdx.Write(c.W, wire.NdxDone)
				continue
			}
			phase++
			if phase > maxPhase {
				break
			}
			s.outNdx.Write(c.W, wire.NdxDone)
			if err := c.W.Flush(); err != nil {
				return err
			}
			continue
		}
		if inc {
			s.at(l)
			if err := s.sendLists(minLookahead); err != nil {
				return err
			}
		}
		if iflags&itemTransfer == 0 {
			if !amServer {
				c.maybeLogItem(s.Opts, sentItem(l, e, iflags))
			}
			writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
			countCreated(&s.Stats, e, iflags)
			continue
		}
		if phase == 2 {
			return fmt.Errorf("got transfer request in phase 2 [sender]: %w", wire.ErrProtocol)
		}
		if !s.wasSent(l, ndx) && iflags&itemIsNew != 0 {
			s.Stats.CreatedFiles++
		}
		s.Stats.XferredFiles++
		s.Stats.TotalTransferredSize += e.Size
		if s.Opts.DryRun {
			if !amServer {
				c.logItem(s.Opts, sentItem(l, e, iflags), logClient)
			}
			writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
			continue
		}
		item := sentItem(l, e, iflags)
		item.read = c.R.Consumed()
		head, err := delta.ReadSumHead(c.R, proto, params.DigestLen())
		if err != nil {
			return fmt.Errorf("receive sums for %s: %w", e.Name(), streamErr(err))
		}
		if err := s.Opts.checkAlloc(int64(head.Count), sumBufSize, "sender", "sender.c", 363); err != nil {
			return err
		}
		sums := &serialSums
		var job *deltaJob
		if ahead != nil && head.Count > 0 {
			job = ahead.job()
			sums = &job.sums
		}
		if err := delta.ReadSums(c.R, head, sums); err != nil {
			return fmt.Errorf("receive sums for %s: %w", e.Name(), streamErr(err))
		}
		item.read = c.R.Consumed() - item.read
		f, err := s.Open(e)
		if job != nil {
			if err == nil {
				job.ndx, job.iflags, job.e, job.l, job.f, job.head = ndx, iflags, e, l, f, head
				job.item = item
				ahead.start(job)
				continue
			}
			ahead.release(job)
		}
		if err := ahead.drain(); err != nil {
			return err
		}
		if err != nil {
			// rsync names the file by its full path (full_fname).
			path := e.Name()
			var pe *os.PathError
			if errors.As(err, &pe) {
				path = pe.Path
			}
			if errors.Is(err, os.ErrNotExist) {
				s.ioError |= exitcode.IOErrVanished
				c.Log.Warning(fmt.Sprintf("file has vanished: \"%s\"\n", path))
			} else {
				s.ioError |= exitcode.IOErrGeneral
				c.XferError(fmt.Sprintf("rsync: [sender] send_files failed to open \"%s\": %s\n", path, errnoText(err)))
			}
			if proto >= 30 {
				if err := c.SendMsgInt(wire.MsgNoSend, ndx); err != nil {
					return err
				}
			}
			continue
		}
		if s.Opts.Out.Before && !amServer {
			c.logItem(s.Opts, item, logClient)
		}
		item.written = c.W.Written()
		handed := s.handOff(ndx, head, comp, f, params.DigestLen())
		writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
		if err := s.batchOnly(true); err != nil {
			return err
		}
		delta.WriteSumHead(c.W, head)
		if handed {
			// The receiver copies the file from f (localcopy.go).
			s.markSent(l, ndx)
			s.Opts.fileDone(e, amServer)
			if !amServer {
				item.written = c.W.Written() - item.written
				c.logItem(s.Opts, item, s.Opts.afterCode())
			}
			continue
		}
		res, readErr, err := matchFile(s.Opts, m, tw, f, sums)
		f.Close()
		if err != nil {
			return fmt.Errorf("send %s: %w", e.Name(), err)
		}
		if err := s.sentFile(l, ndx, item, res, readErr, amServer); err != nil {
			return err
		}
	}
	if s.ioError != 0 && proto >= 30 {
		if err := c.SendMsgInt(wire.MsgIOError, s.ioError); err != nil {
			return err
		}
	}
	s.outNdx.Write(c.W, wire.NdxDone)
	if amServer {
		writeStats(c.W, c, &s.Stats)
	} else if err := s.batchStats(); err != nil {
		return err
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	return s.readFinalGoodbye()
}

// sentFile ends a file's delta: counts it, spoils its checksum after a read
// error (or for a test), and sends the checksum. rsync: sender.c send_files
func (s *Sender) sentFile(l *flist.List, ndx int32, item logged, res delta.MatchResult, readErr error, amServer bool) error {
	c, e := s.Conn, item.e
	s.Stats.LiteralData += res.Literal
	s.Stats.MatchedData += res.Matched
	if s.Opts.Hooks.CorruptSum != nil && s.Opts.Hooks.CorruptSum(e.Name()) {
		delta.CorruptSum(res.Sum)
	}
	if readErr != nil {
		// Spoil the checksum so the receiver discards and redoes the file.
		delta.CorruptSum(res.Sum)
		s.ioError |= exitcode.IOErrGeneral
		c.XferError(fmt.Sprintf("rsync: [sender] read errors mapping %q: %v\n", e.Name(), readErr))
	}
	c.W.Write(res.Sum)
	if err := s.batchOnly(false); err != nil {
		return err
	}
	s.Opts.fileDone(e, amServer)
	if !amServer {
		item.sum, item.written = res.Sum, c.W.Written()-item.written
		c.logItem(s.Opts, item, s.Opts.afterCode())
	}
	s.markSent(l, ndx)
	return c.W.Err()
}

// countCreated counts an entry the generator made new without a
// transfer, as both the sender and the receiver do (so a pulling client
// counts them too). rsync: sender.c send_files, receiver.c recv_files
func countCreated(st *Stats, e *flist.Entry, iflags uint32) {
	if iflags&itemIsNew == 0 {
		return
	}
	st.CreatedFiles++
	switch {
	case e.IsDir():
		st.CreatedDirs++
	case e.IsSymlink():
		st.CreatedSymlinks++
	case e.IsDevice():
		st.CreatedDevices++
	case e.IsRegular():
	default:
		st.CreatedSpecials++
	}
}

// readFinalGoodbye waits for the generator's last NDX_DONE; from protocol 31
// the sender echoes one first. rsync: main.c read_final_goodbye.
func (s *Sender) readFinalGoodbye() error {
	c := s.Conn
	proto := c.Session.Protocol
	if proto < 24 {
		return nil
	}
	var ndx int32
	var err error
	if proto < 29 {
		ndx, err = c.R.ReadInt()
	} else {
		ndx, _, _, _, err = s.readRequest()
		if err == nil && proto >= 31 && ndx == wire.NdxDone {
			s.outNdx.Write(c.W, wire.NdxDone)
			if err = c.W.Flush(); err == nil {
				ndx, _, _, _, err = s.readRequest()
			}
		}
	}
	if err != nil {
		return streamErr(err)
	}
	if ndx != wire.NdxDone {
		return fmt.Errorf("invalid packet at end of run (%d) [sender]: %w", ndx, wire.ErrProtocol)
	}
	return c.Result(s.ioError)
}

// writeStats sends a server sender's totals to the client receiver.
// rsync: main.c handle_stats.
func writeStats(out *wire.Writer, c *Conn, st *Stats) {
	w := func(v int64) {
		if c.Session.Protocol >= 30 {
			out.WriteVarlong(v, 3)
		} else {
			out.WriteLongint(v)
		}
	}
	w(c.BytesRead())
	w(c.BytesWritten())
	w(st.TotalSize)
	if c.Session.Protocol >= 29 {
		w(st.FlistBuildTime)
		w(st.FlistXferTime)
	}
}

// readStats reads what writeStats sent; read and written swap sides.
func readStats(c *Conn, st *Stats) error {
	r := func() (int64, error) {
		if c.Session.Protocol >= 30 {
			return c.R.ReadVarlong(3)
		}
		return c.R.ReadLongint()
	}
	vals := make([]int64, 3, 5)
	n := 3
	if c.Session.Protocol >= 29 {
		n = 5
	}
	vals = vals[:n]
	for i := range vals {
		v, err := r()
		if err != nil {
			return streamErr(err)
		}
		vals[i] = v
	}
	st.TotalWritten, st.TotalRead, st.TotalSize = vals[0], vals[1], vals[2]
	if n == 5 {
		st.FlistBuildTime, st.FlistXferTime = vals[3], vals[4]
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sentItem is a sent entry as its out-format line describes it, with the
// directory its name is relative to (%f).
func sentItem(l *flist.List, e *flist.Entry, iflags uint32) logged {
	it := logged{e: e, iflags: iflags, op: "send"}
	if l != nil && int(e.Root) < len(l.Roots) {
		it.root = l.Roots[e.Root]
	}
	return it
}
