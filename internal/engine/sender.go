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
type Sender struct {
	Conn  *Conn
	Opts  *Options
	List  *flist.List
	Stats Stats

	// Open opens a list entry's source file for reading.
	Open func(e *flist.Entry) (*os.File, error)

	ioError int32
	inNdx   *wire.NdxCodec
	outNdx  *wire.NdxCodec
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
	enc.StartList(0)
	return &ListSender{s: s, enc: enc, before: s.Conn.BytesWritten()}, nil
}

// Add writes one entry of the list.
func (ls *ListSender) Add(e *flist.Entry) error {
	if err := ls.enc.WriteEntry(ls.s.Conn.W, e); err != nil {
		return fmt.Errorf("send file entry %s: %w", e.Name(), err)
	}
	return nil
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
	for {
		ndx, err = codec.Read(c.R)
		if err != nil {
			return 0, 0, streamErr(err)
		}
		if ndx >= 0 || ndx == wire.NdxDone {
			break
		}
		if ndx == wire.NdxDelStats {
			var st Stats
			if err := readDelStats(c, &st); err != nil {
				return 0, 0, err
			}
			if c.OnDelStats != nil {
				c.OnDelStats(&st)
			}
			continue
		}
		return 0, 0, fmt.Errorf("invalid file index: %d (%d - %d): %w", ndx, wire.NdxDone, len(list.Entries)-1, wire.ErrIncompatible)
	}
	if ndx == wire.NdxDone {
		return ndx, 0, nil
	}
	if int(ndx) >= len(list.Entries) {
		return 0, 0, fmt.Errorf("invalid file index: %d (%d - %d): %w", ndx, wire.NdxDone, len(list.Entries)-1, wire.ErrIncompatible)
	}
	if c.Session.Protocol >= 29 {
		v, err := c.R.ReadShortint()
		if err != nil {
			return 0, 0, streamErr(err)
		}
		iflags = uint32(v)
	} else {
		iflags = itemTransfer | itemMissingData
	}
	if iflags&itemBasisTypeFollows != 0 {
		if _, err := c.R.ReadByte(); err != nil {
			return 0, 0, streamErr(err)
		}
	}
	if iflags&itemXnameFollows != 0 {
		if _, err := c.R.ReadVstring(flist.MaxPath); err != nil {
			return 0, 0, streamErr(err)
		}
	}
	e := list.Entries[ndx]
	if !e.Active() {
		return 0, 0, fmt.Errorf("refusing transfer of cleared file index %d: %w", ndx, wire.ErrIncompatible)
	}
	if iflags&itemTransfer != 0 && !e.IsRegular() {
		return 0, 0, fmt.Errorf("received request to transfer non-regular file: %d: %w", ndx, wire.ErrIncompatible)
	}
	return ndx, iflags, nil
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
	s.inNdx = wire.NewNdxCodec(proto)
	s.outNdx = wire.NewNdxCodec(proto)
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
	sent := make([]bool, len(s.List.Entries))
	params := c.Session.XferParams()
	m := delta.NewMatcher(params, false)
	comp, level := c.compression(s.Opts)
	tw := delta.NewTokenWriter(c.W, comp, level, proto)
	var serialSums delta.Sums
	ahead := s.startAhead(m, tw, sent, amServer)
	defer ahead.stop()
	for {
		if err := ahead.emitReady(); err != nil {
			return err
		}
		ndx, iflags, err := readNdxAndAttrs(c, s.inNdx, s.List, true)
		if err != nil {
			return err
		}
		if ndx < 0 || iflags&itemTransfer == 0 {
			// What goes out now follows the files in flight.
			if err := ahead.drain(); err != nil {
				return err
			}
		}
		if ndx == wire.NdxDone {
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
		e := s.List.Entries[ndx]
		if iflags&itemTransfer == 0 {
			if !amServer {
				logUntransferred(c.Log, s.Opts, e, "", iflags)
			}
			writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
			s.countCreated(e, iflags)
			continue
		}
		if phase == 2 {
			return fmt.Errorf("got transfer request in phase 2 [sender]: %w", wire.ErrProtocol)
		}
		if !sent[ndx] && iflags&itemIsNew != 0 {
			s.Stats.CreatedFiles++
		}
		s.Stats.XferredFiles++
		s.Stats.TotalTransferredSize += e.Size
		if s.Opts.DryRun {
			if !amServer && s.Opts.Verbose > 0 {
				c.Log.Info(itemName(e, "") + "\n")
			}
			writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
			continue
		}
		head, err := delta.ReadSumHead(c.R, proto, params.DigestLen())
		if err != nil {
			return fmt.Errorf("receive sums for %s: %w", e.Name(), streamErr(err))
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
		f, err := s.Open(e)
		if job != nil {
			if err == nil {
				job.ndx, job.iflags, job.e, job.f, job.head = ndx, iflags, e, f, head
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
		handed := s.handOff(ndx, head, comp, f)
		writeNdxAndAttrs(c, s.outNdx, ndx, iflags)
		delta.WriteSumHead(c.W, head)
		if handed {
			// The receiver copies the file from f (localcopy.go).
			sent[ndx] = true
			s.Opts.fileDone(e, amServer)
			if s.Opts.Verbose > 0 && !amServer {
				c.Log.Info(itemName(e, "") + "\n")
			}
			continue
		}
		res, readErr, err := matchFile(s.Opts, m, tw, f, sums)
		f.Close()
		if err != nil {
			return fmt.Errorf("send %s: %w", e.Name(), err)
		}
		if err := s.sentFile(e, ndx, res, readErr, amServer, sent); err != nil {
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
		writeStats(c, &s.Stats)
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	return s.readFinalGoodbye()
}

// sentFile ends a file's delta: counts it, spoils its checksum after a read
// error (or for a test), and sends the checksum. rsync: sender.c send_files
func (s *Sender) sentFile(e *flist.Entry, ndx int32, res delta.MatchResult, readErr error, amServer bool, sent []bool) error {
	c := s.Conn
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
	s.Opts.fileDone(e, amServer)
	if s.Opts.Verbose > 0 && !amServer {
		c.Log.Info(itemName(e, "") + "\n")
	}
	sent[ndx] = true
	return c.W.Err()
}

func (s *Sender) countCreated(e *flist.Entry, iflags uint32) {
	if iflags&itemIsNew == 0 {
		return
	}
	s.Stats.CreatedFiles++
	switch {
	case e.IsDir():
		s.Stats.CreatedDirs++
	case e.IsSymlink():
		s.Stats.CreatedSymlinks++
	case e.IsDevice():
		s.Stats.CreatedDevices++
	case e.IsRegular():
	default:
		s.Stats.CreatedSpecials++
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
		ndx, _, err = readNdxAndAttrs(c, s.inNdx, s.List, true)
		if err == nil && proto >= 31 && ndx == wire.NdxDone {
			s.outNdx.Write(c.W, wire.NdxDone)
			if err = c.W.Flush(); err == nil {
				ndx, _, err = readNdxAndAttrs(c, s.inNdx, s.List, true)
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
func writeStats(c *Conn, st *Stats) {
	w := func(v int64) {
		if c.Session.Protocol >= 30 {
			c.W.WriteVarlong(v, 3)
		} else {
			c.W.WriteLongint(v)
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
