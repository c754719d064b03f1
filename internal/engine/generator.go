package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/wire"
	"golang.org/x/sys/unix"
)

// generator walks the received list, decides what each destination entry
// needs, creates directories, links and special files itself, and asks the
// sender for the regular files that differ. rsync: generator.c.
type generator struct {
	rs     *Receiving
	c      *Conn
	opts   *Options
	root   *fsys.Root
	list   *flist.List // the list being generated
	outNdx *wire.NdxCodec
	events *eventQueue
	evs    []genEvent // the batch of events being handled
	stats  *Stats

	dfltPerms uint32 // ACCESSPERMS & ~umask
	sigBuf    []byte
	sumBuf    []byte // reused for --checksum reads
	block     *checksum.BlockHasher
	fileSum   *checksum.FileHasher
	dirs      []dirFix // directories whose times and modes are fixed at the end
	tree      treeState
	skipDir   string // a directory --existing did not create: skip what is below
	failed    bool
	amServer  bool
	del       *deleter
	ahead     *sumAhead // --checksum sums computed ahead (parallel.go)
	phaseDone int       // phases the receiver has ended
	redoQ     []int32   // files to send again, in the order they failed

	// With incremental recursion (segments.go): the lists the receiver
	// has passed on that are not closed yet (no NDX_DONE sent), oldest
	// first; next indexes the first not generated yet, cur is the one
	// being generated (nil once all are), gap is its gap index, eof says
	// no list follows. early holds the directories made while their
	// parent's list was generated (rsync's FLAG_DIR_CREATED).
	inc   bool
	live  []*genSeg
	next  int
	cur   *genSeg
	gap   int32
	eof   bool
	early map[*flist.Entry]bool
}

// genSeg is one list as the generator works through it: rsync's flist
// in_progress (requests not yet finished) and to_redo counts, and the
// directory it holds the entries of, fixed up once it is closed.
type genSeg struct {
	list       *flist.List
	dir        *flist.Entry
	inProgress int
	toRedo     int
	fix        *dirFix
}

func (g *generator) name(e *flist.Entry) string {
	if g.rs.LocalName != "" {
		return g.rs.LocalName
	}
	return e.Name()
}

func (g *generator) errorf(format string, args ...any) {
	g.failed = true
	g.c.XferError(fmt.Sprintf(format, args...))
}

// run is generate_files: the lists, the redo phase, the phases' ends and
// the deletions that come late. rsync: generator.c generate_files
func (g *generator) run() error {
	c := g.c
	proto := c.Session.Protocol
	g.del = newDeleter(g)
	g.ahead = startSumAhead(g)
	defer g.ahead.stop()
	solo := g.rs.LocalName != ""
	var err error
	if g.inc {
		err = g.generateLists()
	} else {
		err = g.generateList(solo)
	}
	if err != nil {
		return err
	}
	g.outNdx.Write(c.W, wire.NdxDone)
	if proto >= 29 {
		g.outNdx.Write(c.W, wire.NdxDone) // delay-updates phase, empty
	}
	// Deletion statistics follow the transfer at once unless deletions
	// are still to come. rsync: generator.c EARLY_DELETE_DONE_MSG
	lateDelete := g.del.mode == DeleteDelay || g.del.mode == DeleteAfter
	if proto >= 31 && !lateDelete {
		if g.opts.Delete != DeleteOff || g.opts.Force {
			g.sendDelStats()
		}
		g.outNdx.Write(c.W, wire.NdxDone)
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	transferDone := 2
	if proto >= 29 {
		transferDone = 3
	}
	// The receiver ends a phase only once its workers have put every
	// file of it in place (finish.go): the late deletions and the
	// directory fix-ups below come after the files.
	if err := g.untilPhase(transferDone); err != nil {
		return err
	}
	switch {
	case g.del.mode == DeleteDelay:
		g.del.delayedDeletions()
	case g.del.mode == DeleteAfter && !solo && len(g.list.Entries) > 0:
		g.del.pass()
	}
	if g.del.fatal != nil {
		return g.del.fatal
	}
	g.del.finish()
	if proto >= 31 && lateDelete {
		if g.opts.Delete != DeleteOff || g.opts.Force {
			g.sendDelStats()
		}
		g.outNdx.Write(c.W, wire.NdxDone)
		if err := c.W.Flush(); err != nil {
			return err
		}
	}
	want := transferDone
	if proto >= 31 {
		want = 4
	}
	if err := g.untilPhase(want); err != nil {
		return err
	}
	// With incremental recursion each directory was fixed up as its list
	// closed, unless deletions were still to come.
	if !g.inc || g.del.mode == DeleteDelay {
		g.touchUpDirs()
	}
	g.outNdx.Write(c.W, wire.NdxDone)
	return c.W.Flush()
}

// generateList generates the one list of a transfer without incremental
// recursion, then serves the redo phase until the receiver ends phase 0.
func (g *generator) generateList(solo bool) error {
	c := g.c
	if g.del.mode == DeleteBefore && !solo && len(g.list.Entries) > 0 {
		g.del.pass()
	}
	for i, e := range g.list.Entries {
		if g.del.fatal != nil {
			return g.del.fatal
		}
		if !e.Active() {
			continue
		}
		if err := g.recvGenerator(int32(i), e, false); err != nil {
			return err
		}
		if err := g.flushSome(); err != nil {
			return err
		}
	}
	if g.del.fatal != nil {
		return g.del.fatal
	}
	g.del.changeFilterDir("", 0)
	g.outNdx.Write(c.W, wire.NdxDone)
	// Redo phase: files whose whole-file checksum failed go again with
	// full-length block sums, until the receiver finishes phase 0.
	return g.untilPhase(1)
}

// generateLists generates, with incremental recursion, each list as the
// receiver passes it on, in order: its directory in full at the list's
// gap index (with --delete-during, its deletions), then its entries.
// Between lists it serves the files to redo and closes the lists that are
// done; after the last, it closes the rest as their files finish, until
// the sender's echo of the last NDX_DONE ends the receiver's phase 0.
// rsync: generator.c generate_files
func (g *generator) generateLists() error {
	g.early = make(map[*flist.Entry]bool)
	for g.next < len(g.live) {
		s := g.live[g.next]
		g.next++
		g.cur = s
		if err := g.generateSegment(s); err != nil {
			return err
		}
		for {
			if err := g.checkFinished(true); err != nil {
				return err
			}
			if g.next < len(g.live) || g.eof {
				break
			}
			if err := g.pump(true); err != nil {
				return err
			}
		}
	}
	g.cur = nil
	g.del.changeFilterDir("", 0)
	return g.untilPhase(1)
}

// generateSegment generates one list of incremental recursion.
func (g *generator) generateSegment(s *genSeg) error {
	g.list = s.list
	g.gap = s.list.NdxStart - 1
	if s.dir != nil {
		if err := g.recvGenerator(g.gap, s.dir, false); err != nil {
			return err
		}
	}
	for i, e := range s.list.Entries {
		if g.del.fatal != nil {
			return g.del.fatal
		}
		if !e.Active() {
			continue
		}
		if err := g.recvGenerator(s.list.NdxStart+int32(i), e, false); err != nil {
			return err
		}
		if err := g.pump(false); err != nil {
			return err
		}
		if err := g.checkFinished(false); err != nil {
			return err
		}
		if err := g.flushSome(); err != nil {
			return err
		}
	}
	return g.del.fatal
}

// flushSome sends the requests buffered so far once there are enough of
// them to be worth a write.
func (g *generator) flushSome() error {
	if g.c.W.Buffered() > 32<<10 {
		return g.c.W.Flush()
	}
	return nil
}

// untilPhase closes lists and serves redos until the receiver has ended
// phase want-1.
func (g *generator) untilPhase(want int) error {
	for {
		if err := g.checkFinished(true); err != nil {
			return err
		}
		if g.phaseDone >= want {
			return nil
		}
		if err := g.pump(true); err != nil {
			return err
		}
	}
}

// pump handles the receiver's events that have come, first flushing what
// the generator wrote and waiting for one when wait is set.
func (g *generator) pump(wait bool) error {
	if wait {
		if err := g.c.W.Flush(); err != nil {
			return err
		}
	}
	evs, closed := g.events.take(g.evs, wait)
	g.evs = evs
	if closed {
		return errReceiverGone
	}
	for _, ev := range evs {
		if err := g.handle(ev); err != nil {
			return err
		}
	}
	return nil
}

// handle acts on one event of the receiver. rsync: io.c
// got_flist_entry_status, wait_for_receiver
func (g *generator) handle(ev genEvent) error {
	switch ev.kind {
	case evPhase:
		g.phaseDone++
	case evSegment:
		g.live = append(g.live, &genSeg{list: ev.list, dir: ev.dir})
		g.ahead.add(ev.list)
	case evEOF:
		g.eof = true
		g.ahead.end()
	case evDone, evRedo:
		if g.inc {
			s, err := g.segOf(ev.ndx)
			if err != nil {
				return err
			}
			s.inProgress--
			if s.inProgress < 0 {
				return fmt.Errorf("file index %d finished more often than requested: %w", ev.ndx, wire.ErrProtocol)
			}
			if ev.kind == evRedo {
				s.toRedo++
			}
		}
		if ev.kind == evRedo {
			g.redoQ = append(g.redoQ, ev.ndx)
		}
	}
	return nil
}

// segOf returns the open list that file index ndx (not a gap index)
// belongs to. rsync: rsync.c flist_for_ndx
func (g *generator) segOf(ndx int32) (*genSeg, error) {
	if s := g.cur; s != nil && ndx >= s.list.NdxStart && int(ndx-s.list.NdxStart) < len(s.list.Entries) {
		return s, nil
	}
	for _, s := range g.live {
		if ndx >= s.list.NdxStart && int(ndx-s.list.NdxStart) < len(s.list.Entries) {
			return s, nil
		}
	}
	lo, hi := int32(0), int32(-1)
	if len(g.live) > 0 {
		lo = g.live[0].list.NdxStart - 1
		l := g.live[len(g.live)-1].list
		hi = l.NdxStart + int32(len(l.Entries)) - 1
	}
	return nil, fmt.Errorf("File-list index %d not in %d - %d [generator]: %w", ndx, lo, hi, wire.ErrIncompatible)
}

// checkFinished sends the files to redo (with checkRedo) and, with
// incremental recursion, closes the oldest lists the generator is past
// whose requests have all finished: one NDX_DONE each, in order, and the
// fix-up of the list's directory. A request finishes when the receiver's
// workers have put the file in place (finish.go), so the fix-up follows
// the directory's files. rsync: generator.c check_for_finished_files
func (g *generator) checkFinished(checkRedo bool) error {
	c := g.c
	for {
		if checkRedo && len(g.redoQ) > 0 {
			ndx := g.redoQ[0]
			g.redoQ = g.redoQ[1:]
			var s *genSeg
			e := (*flist.Entry)(nil)
			if g.inc {
				var err error
				if s, err = g.segOf(ndx); err != nil {
					return err
				}
				e = s.list.Entries[ndx-s.list.NdxStart]
			} else {
				e = g.list.Entries[ndx]
			}
			if err := g.recvGenerator(ndx, e, true); err != nil {
				return err
			}
			if s != nil {
				s.toRedo--
			}
			if err := c.W.Flush(); err != nil {
				return err
			}
			continue
		}
		if !g.inc || g.next == 0 || g.live[0] == g.cur {
			return nil
		}
		first := g.live[0]
		if first.inProgress > 0 || first.toRedo > 0 {
			return nil
		}
		g.outNdx.Write(c.W, wire.NdxDone)
		if first.fix != nil {
			g.touchUp(*first.fix)
		}
		g.live[0] = nil
		g.live = g.live[1:]
		g.next--
	}
}

// requested counts a transfer request of file ndx against its list, which
// stays open until the request is finished; a dry run's requests finish
// at once. rsync: generator.c recv_generator (in_progress++)
func (g *generator) requested(ndx int32) {
	if !g.inc || g.opts.DryRun {
		return
	}
	if s, err := g.segOf(ndx); err == nil {
		s.inProgress++
	}
}

var errReceiverGone = errors.New("receiver stopped early")

// dirFix is a directory whose final mode and time wait for its contents.
type dirFix struct {
	e       *flist.Entry
	created bool // made by this transfer: it takes the new-entry mode
}

// recvGenerator handles one entry. rsync: generator.c recv_generator.
func (g *generator) recvGenerator(ndx int32, e *flist.Entry, redo bool) error {
	name := g.name(e)
	if err := g.checkParent(e); err != nil {
		return err
	}
	// With incremental recursion a directory among its parent's entries
	// is only made early; its own list handles it in full, at the gap
	// index. rsync: generator.c recv_generator (is_dir < 0)
	early := g.inc && e.IsDir() && ndx != g.gap
	if g.opts.Select.ListOnly {
		if !early {
			g.listEntry(e)
		}
		return nil
	}
	var st fsys.Stat
	exists := false
	if !g.rs.DryRunMissing {
		var err error
		st, err = g.root.LstatT(name)
		exists = err == nil
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
			g.errorf("rsync: [generator] recv_generator: failed to stat %q: %v\n", name, unwrapPathErr(err))
			return nil
		}
	}
	if e.Mode == 0 {
		// A --delete-missing-args entry: its destination goes.
		if g.opts.MissingArgs == flist.DeleteMissing && !g.rs.DryRunMissing {
			g.del.missingArg(name, exists, &st)
		}
		return nil
	}
	if early {
		g.earlyDir(e, name, &st, exists)
		return nil
	}
	if !redo && g.skipEntry(ndx, e, name, &st, exists) {
		return nil
	}
	switch {
	case e.IsDir():
		if g.skipImplied(e) {
			return nil
		}
		g.tree.priorDir = name
		return g.genDir(ndx, e, name, &st, exists)
	case e.IsSymlink():
		if !g.opts.Links {
			g.skipNonRegular(name)
			return nil
		}
		return g.genSymlink(ndx, e, name, &st, exists)
	case e.IsDevice() || e.IsSpecial():
		if e.IsDevice() && !g.opts.Devices || e.IsSpecial() && !g.opts.Specials {
			g.skipNonRegular(name)
			return nil
		}
		return g.genSpecial(ndx, e, name, &st, exists)
	case e.IsRegular():
		return g.genFile(ndx, e, name, &st, exists, redo)
	}
	return nil
}

// skipNonRegular reports an entry the options do not let us create.
// rsync: generator.c recv_generator ("skipping non-regular file").
func (g *generator) skipNonRegular(name string) {
	if g.opts.Info.Nonreg > 0 && !g.opts.Quiet {
		g.c.Log.Info(fmt.Sprintf("skipping non-regular file %q\n", name))
	}
}

// itemize computes the change flags for an entry that exists (or not) and
// tells the sender about significant ones. rsync: generator.c itemize.
func (g *generator) itemize(ndx int32, e *flist.Entry, st *fsys.Stat, exists bool, iflags uint32) uint32 {
	if exists {
		keepTime := g.opts.Times && !e.IsSymlink() || g.opts.Times && e.IsSymlink() && g.c.Session.ReceiverSymlinkTimes
		if e.IsRegular() && e.Size != st.Size {
			iflags |= itemReportSize
		}
		if keepTime {
			if g.mtimeDiffers(st, e) {
				iflags |= itemReportTime
			}
		} else if iflags&(itemTransfer|itemLocalChange) != 0 {
			iflags |= itemReportTime
		}
		if !e.IsSymlink() && g.opts.Perms && st.Perm() != e.Mode&0o7777 {
			iflags |= itemReportPerms
		}
		if g.opts.Owner && fsys.AmRoot() && st.UID != e.UID {
			iflags |= itemReportOwner
		}
		if g.opts.Group && e.Flags&flist.FlagSkipGroup == 0 && st.GID != e.GID {
			iflags |= itemReportGroup
		}
	} else {
		iflags |= itemIsNew
	}
	iflags &= 0xffff
	if ndx >= 0 && (iflags&significantItemFlags != 0 || g.opts.Info.Name >= 2 || g.opts.Out.HasI > 1) && !g.opts.ReadBatch {
		switch {
		case g.c.Session.Protocol >= 29:
			g.outNdx.Write(g.c.W, ndx)
			g.c.W.WriteShortint(uint16(iflags))
		case !g.amServer && g.opts.Out.HasI > 0:
			// Before protocol 29 the flags stay here: a client's
			// generator prints the entry itself. rsync: generator.c
			// itemize, generate_files (itemizing)
			code := logClient
			if g.opts.LogFormat.HasI > 0 {
				code = logBoth
			}
			g.c.logItem(g.opts, logged{e: e, iflags: iflags}, code)
		}
	}
	return iflags
}

// attrsFor returns what to apply to an entry given its current state.
// rsync: rsync.c set_file_attrs.
func (g *generator) attrsFor(e *flist.Entry, st *fsys.Stat, exists bool, setTime bool) fsys.Attrs {
	var a fsys.Attrs
	if g.opts.Owner && fsys.AmRoot() && (!exists || st.UID != e.UID) {
		a.Set |= fsys.SetUID
		a.UID = e.UID
	}
	if g.opts.Group && e.Flags&flist.FlagSkipGroup == 0 && (!exists || st.GID != e.GID) {
		a.Set |= fsys.SetGID
		a.GID = e.GID
	}
	if a.Set&(fsys.SetUID|fsys.SetGID) != 0 {
		// chown needs both ids; keep the current one that is not changing.
		if a.Set&fsys.SetUID == 0 {
			a.UID = st.UID
			if !exists {
				a.UID = uint32(os.Geteuid())
			}
			a.Set |= fsys.SetUID
		}
		if a.Set&fsys.SetGID == 0 {
			a.GID = st.GID
			if !exists {
				a.GID = uint32(os.Getegid())
			}
			a.Set |= fsys.SetGID
		}
	}
	if setTime && g.opts.Times && (!e.IsSymlink() || g.c.Session.ReceiverSymlinkTimes) {
		// Seconds only, as rsync's same_time with --modify-window=0: an
		// entry differing only in nanoseconds is left alone.
		if !exists || g.mtimeDiffers(st, e) {
			a.Set |= fsys.SetMtime
			a.Mtime = time.Unix(e.Mtime, int64(e.MtimeNsec))
			a.Atime = time.Now()
		}
	}
	if !e.IsSymlink() {
		mode := g.destMode(e, st, exists)
		if !exists || st.Perm() != mode {
			a.Set |= fsys.SetMode
			a.Mode = mode
		}
	}
	return a
}

// destMode gives the permission bits a file should end with: without -p,
// an existing file keeps its own and a new one gets the source's narrowed
// by the destination's defaults, except that a directory just made keeps
// the set-group-ID bit its parent gave it (st is its stat after mkdir).
// rsync: rsync.c dest_mode, set_file_attrs (inherit).
func (g *generator) destMode(e *flist.Entry, st *fsys.Stat, exists bool) uint32 {
	switch {
	case g.opts.Perms:
		return e.Mode & 0o7777
	case exists:
		return st.Perm()
	case e.IsDir() && st.IsDir():
		return e.Mode&g.dfltPerms | st.Perm()&unix.S_ISGID
	default:
		return e.Mode & g.dfltPerms
	}
}

// applyAttrs sets what differs of an entry's attributes and reports
// whether anything did (also in a dry run, which changes nothing).
func (g *generator) applyAttrs(name string, e *flist.Entry, st *fsys.Stat, exists bool, setTime bool) bool {
	a := g.attrsFor(e, st, exists, setTime)
	if a.Set == 0 || g.opts.DryRun {
		return a.Set != 0
	}
	if err := g.root.SetAttrs(name, a); err != nil {
		g.errorf("rsync: [generator] failed to set attributes on %q: %v\n", name, unwrapPathErr(err))
	}
	return true
}

// reportUnchanged is --info=name2's line for an entry left in place: its
// name when its attributes changed, else that it is up to date.
// rsync: rsync.c set_file_attrs (ATTRS_REPORT)
func (g *generator) reportUnchanged(name string, updated bool) {
	// Itemizing (-i) reports these entries itself.
	if g.opts.Info.Name < 2 || g.opts.Out.HasI > 0 || g.opts.Quiet {
		return
	}
	if updated {
		g.c.Log.Info(name + "\n")
	} else {
		g.c.Log.Info(name + " is uptodate\n")
	}
}

func (g *generator) genDir(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	if exists && !st.IsDir() {
		if !g.del.makeRoom(name, st, e) {
			g.c.Log.Error("*** Skipping any contents from this failed directory ***\n")
			return nil
		}
		exists = false
	}
	// rsync deletes in a directory after making sure it exists; a dry run
	// that would create it has nothing to delete there.
	defer func() { g.del.during(e, name, !exists && g.opts.DryRun || g.rs.DryRunMissing) }()
	// The destination made for this transfer counts as a directory just
	// created, whose mode is set as a new one's, as does one made early.
	// rsync: main.c get_local_name (FLAG_DIR_CREATED)
	created := e.Dir == "" && e.Base == "." && g.rs.RootCreated
	if g.early[e] {
		delete(g.early, e)
		created = true
	}
	// A directory made here is a local change (rsync's statret != 0).
	if created || !exists {
		g.itemize(ndx, e, st, false, itemLocalChange)
	} else {
		g.itemize(ndx, e, st, exists, 0)
	}
	if !exists && !g.opts.DryRun {
		created = true
		if err := g.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			g.errorf("rsync: [generator] recv_generator: mkdir %q failed: %v\n", name, unwrapPathErr(err))
			return nil
		}
		if ns, err := g.root.LstatT(name); err == nil {
			*st = ns
			exists = true
		}
	}
	if !g.opts.DryRun {
		a := g.attrsFor(e, st, exists, false)
		// Keep the directory writable for its contents; touchUpDirs sets the
		// final mode and time once they are in place.
		a.Set &^= fsys.SetMode
		if a.Set != 0 {
			if err := g.root.SetAttrs(name, a); err != nil {
				g.errorf("rsync: [generator] failed to set attributes on %q: %v\n", name, unwrapPathErr(err))
			}
		}
		g.noteDir(dirFix{e: e, created: created})
	}
	return nil
}

// earlyDir handles, with incremental recursion, a directory met among its
// parent's entries: its own list comes later, and handles it in full
// (itemized, attributes set, deletions inside). With -t a missing one is
// made now, private, so that its parent's time can be set once the
// parent's list is done; what stands in its way goes. rsync: generator.c
// recv_generator (is_dir < 0)
func (g *generator) earlyDir(e *flist.Entry, name string, st *fsys.Stat, exists bool) {
	o := &g.opts.Select
	switch {
	case g.skipDir != "" && (g.skipDir == "." || strings.HasPrefix(name, g.skipDir+"/")):
	case o.IgnoreNonExisting && !exists, o.IgnoreExisting && exists && !st.IsDir():
	case g.skipImplied(e), !g.opts.Times, g.opts.DryRun, g.rs.DryRunMissing:
	case exists && (st.IsDir() || !g.replaceable(name, st, e)):
	default:
		// rsync makes it (mode|added_perms)&0700; 0700 keeps it open to
		// its contents for any mode, until its own list sets the mode.
		if err := g.root.Mkdir(name, 0o700); err == nil {
			g.early[e] = true
		}
	}
}

// noteDir records a directory to fix up once its contents are in place:
// with incremental recursion when its list closes (but after deletions
// that come late), else at the end.
func (g *generator) noteDir(f dirFix) {
	if g.inc && g.del.mode != DeleteDelay && g.cur != nil && g.cur.dir == f.e {
		g.cur.fix = &f
		return
	}
	g.dirs = append(g.dirs, f)
}

// touchUpDirs fixes directory modes and times after all files are in place,
// deepest first. rsync: generator.c touch_up_dirs.
func (g *generator) touchUpDirs() {
	for i := len(g.dirs) - 1; i >= 0; i-- {
		g.touchUp(g.dirs[i])
	}
}

// touchUp sets one directory's final mode and time.
func (g *generator) touchUp(d dirFix) {
	name := g.name(d.e)
	st, err := g.root.LstatT(name)
	if err != nil || !st.IsDir() {
		return
	}
	a := g.attrsFor(d.e, &st, !d.created, true)
	a.Set &^= fsys.SetUID | fsys.SetGID
	if a.Set == 0 {
		return
	}
	if err := g.root.SetAttrs(name, a); err != nil {
		g.errorf("rsync: [generator] failed to set times on %q: %v\n", name, unwrapPathErr(err))
	}
}

// unchanged finishes an entry already in place: itemized as such, its
// attributes set, and, with --remove-source-files, reported so that the
// sender removes its source. rsync: generator.c recv_generator
func (g *generator) unchanged(ndx int32, e *flist.Entry, name string, st *fsys.Stat) {
	g.reportUnchanged(name, g.applyAttrs(name, e, st, true, true))
	g.itemize(ndx, e, st, true, 0)
	if g.opts.Select.RemoveSource == RemoveSourceFiles {
		g.c.succeeded(g.opts, g.root, name, ndx)
	}
}

func (g *generator) replaceable(name string, st *fsys.Stat, e *flist.Entry) bool {
	return g.del.makeRoom(name, st, e)
}

func (g *generator) genSymlink(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	if exists {
		if st.IsSymlink() {
			if target, err := g.root.Readlink(name); err == nil && target == e.LinkTarget() {
				g.unchanged(ndx, e, name, st)
				return nil
			}
		}
		if !g.replaceable(name, st, e) {
			return nil
		}
	}
	// rsync: generator.c recv_generator (ITEM_LOCAL_CHANGE|ITEM_REPORT_CHANGE)
	g.itemize(ndx, e, st, exists && st.IsSymlink(), itemLocalChange|itemReportChange)
	if g.opts.DryRun {
		return nil
	}
	if err := g.root.Symlink(e.LinkTarget(), name); err != nil {
		g.errorf("rsync: [generator] symlink %q -> %q failed: %v\n", name, e.LinkTarget(), unwrapPathErr(err))
		return nil
	}
	g.applyAttrs(name, e, st, false, true)
	// Even --remove-sent-files removes a created symlink. rsync:
	// generator.c recv_generator
	g.c.succeeded(g.opts, g.root, name, ndx)
	return nil
}

func (g *generator) genSpecial(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	rdev := unix.Mkdev(e.Rdev())
	sameType := false
	if exists {
		sameType = st.Type() == e.Type()
		if sameType && (!e.IsDevice() || st.Rdev == rdev) {
			g.unchanged(ndx, e, name, st)
			return nil
		}
		if !g.replaceable(name, st, e) {
			return nil
		}
	}
	// A device of the same type with other numbers is changed, not new.
	// rsync: generator.c recv_generator (ITEM_LOCAL_CHANGE|ITEM_REPORT_CHANGE)
	g.itemize(ndx, e, st, exists && sameType, itemLocalChange|itemReportChange)
	if g.opts.DryRun {
		return nil
	}
	if !e.IsDevice() {
		rdev = 0
	}
	if err := g.root.Mknod(name, e.Mode&(flist.ModeTypeMask|0o7777), rdev); err != nil {
		g.errorf("rsync: [generator] mknod %q failed: %v\n", name, unwrapPathErr(err))
		return nil
	}
	g.applyAttrs(name, e, st, false, true)
	if g.opts.Select.RemoveSource == RemoveSourceFiles {
		g.c.succeeded(g.opts, g.root, name, ndx)
	}
	return nil
}

// quickCheck reports whether a destination file already matches. rsync:
// generator.c quick_check_ok (FT_REG).
func (g *generator) quickCheck(ndx int32, e *flist.Entry, name string, st *fsys.Stat) bool {
	if st.Size != e.Size {
		return false
	}
	if g.opts.AlwaysChecksum {
		if sum, ok := g.ahead.sum(ndx, st); ok {
			want := e.Sum()
			return len(want) > 0 && bytes.Equal(sum[:min(len(sum), len(want))], want)
		}
		f, err := g.root.Open(name)
		if err != nil {
			return false
		}
		defer f.Close()
		g.fileSum.Reset(g.c.Session.FileParams())
		if g.sumBuf == nil {
			g.sumBuf = make([]byte, 256<<10)
		}
		if err := fastio.Feed(g.fileSum, f, g.sumBuf); err != nil {
			return false
		}
		sum := g.fileSum.Sum(nil)
		want := e.Sum()
		return len(want) > 0 && bytes.Equal(sum[:min(len(sum), len(want))], want)
	}
	if g.opts.SizeOnly {
		return true
	}
	if g.opts.IgnoreTimes {
		return false
	}
	return !g.mtimeDiffers(st, e)
}

func (g *generator) genFile(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists, redo bool) error {
	if !redo && g.skipRegular(e, name, st, exists) {
		return nil
	}
	if exists && !st.IsRegular() {
		if !g.replaceable(name, st, e) {
			return nil
		}
		exists = false
	}
	if exists && !redo && g.quickCheck(ndx, e, name, st) {
		g.unchanged(ndx, e, name, st)
		return nil
	}
	c := g.c
	proto := c.Session.Protocol
	g.requested(ndx)
	g.outNdx.Write(c.W, ndx)
	iflags := uint32(itemTransfer)
	if g.opts.AlwaysChecksum {
		iflags |= itemReportChange
	}
	if proto >= 29 {
		iflags = g.itemize(-1, e, st, exists, iflags)
		if !g.opts.ReadBatch {
			c.W.WriteShortint(uint16(iflags))
		}
	}
	// A batch brings its own sums; one written only to a batch needs
	// them although nothing is written. rsync: generator.c
	// recv_generator (do_xfers, read_batch)
	if g.opts.DryRun && g.opts.WriteBatch >= 0 || g.opts.ReadBatch {
		return nil
	}
	if !exists || g.opts.WholeFile || st.Size <= 0 {
		delta.WriteSumHead(c.W, delta.SumHead{})
		return nil
	}
	f, err := g.root.Open(name)
	if err != nil {
		// rsync falls back to sending the whole file when the basis cannot be read.
		delta.WriteSumHead(c.W, delta.SumHead{})
		return nil
	}
	defer f.Close()
	sumLen := checksum.ShortSumLength
	if redo {
		sumLen = checksum.SumLength
	}
	head, err := checksum.SumSizes(st.Size, 0, proto, sumLen, g.block.Size())
	if err != nil {
		return fmt.Errorf("generate sums for %s: %w", name, err)
	}
	// A large basis is hashed in place from a mapping (no copy through
	// pread); a smaller one, or where it cannot be mapped, is read.
	var basis io.ReaderAt = f
	if st.Size >= fastio.MapThreshold {
		if mf, err := g.opts.IO.Open(f, st.Size, fastio.Sequential); err == nil {
			defer mf.Close()
			basis = mf
		}
	}
	if g.sigBuf, err = delta.WriteSignature(c.W, basis, st.Size, head, g.block, g.sigBuf, g.sumWorkers()); err != nil {
		return fmt.Errorf("generate sums for %s: %w", name, err)
	}
	if g.opts.Hooks.AfterSums != nil {
		g.opts.Hooks.AfterSums(name)
	}
	return nil
}

// sumWorkers is how many goroutines may hash one large basis's block sums:
// every CPU with the Parallel fast path, else one.
func (g *generator) sumWorkers() int {
	if g.opts.IO.On(fastio.Parallel) {
		return runtime.GOMAXPROCS(0)
	}
	return 1
}
